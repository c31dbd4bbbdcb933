// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What libtld costs a program that links it, besides its calls:
 * - the key macros read as declarations, ';' included, under -pedantic
 *   (this file is compiled with pedantic warnings as errors from here on);
 * - its static TLS stays small, since plugin hosts dlopen() libraries and
 *   every module's static TLS comes from one small reserve;
 * - libtld.a puts no name in the program's symbol space under the public
 *   tld_ prefix that libtld.so does not export: internals are tld__.
 *
 * Checked to fail: with the old TLD_DEFINE_KEY (no trailing declaration),
 * this file does not compile; with log.c's 640-byte per-thread message
 * buffer back, the TLS check fails; with tld_err() not renamed, the symbol
 * check fails.
 */
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wpedantic"
TLD_DECLARE_KEY(api_key);
TLD_DEFINE_KEY(api_key, "test.api", sizeof(__u64));
static TLD_DEFINE_KEY(api_private, "test.api.private", sizeof(__u32));
#pragma GCC diagnostic pop

#define TLS_MAX	64

static int tls_of(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;

	(void)size;
	if (!strstr(info->dlpi_name, "libtld.so"))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS)
			*(size_t *)data = info->dlpi_phdr[i].p_memsz;
	return 1;
}

/* Whether "nm ... @lib" lists @sym. */
static bool nm_has(const char *args, const char *sym)
{
	char cmd[1024], line[256], name[200];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm %s 2>/dev/null", args);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		if (sscanf(line, "%*s %*s %199[^@ \n]", name) == 1 && !strcmp(name, sym))
			found = true;
	if (p)
		pclose(p);
	return found;
}

static void check_symbols(void)
{
	char cmd[512], line[256], name[200], type;
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -g --defined-only %s/libtld.a", th_build_dir());
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%*s %c %199s", &type, name) != 2)
			continue;
		n++;
		/* tld__ is ours; __ is the compiler's (ASan adds __odr_asan.*). */
		if (!strncmp(name, "tld__", 5) || !strncmp(name, "__", 2))
			continue;
		snprintf(cmd, sizeof(cmd), "-D --defined-only %s/libtld.so", th_build_dir());
		TH_CHECK(nm_has(cmd, name), "libtld.a defines %s, which libtld.so does not export",
			 name);
	}
	if (p)
		pclose(p);
	TH_CHECK(n > 10, "nm listed %d symbols of libtld.a", n);
}

int main(void)
{
	size_t tls = 0;

	TH_CHECK(!tld_key_err(api_key) && !tld_key_err(api_private), "keys: %d %d",
		 tld_key_err(api_key), tld_key_err(api_private));
	dl_iterate_phdr(tls_of, &tls);
	TH_CHECK(tls > 0 && tls <= TLS_MAX, "libtld's static TLS is %zu bytes", tls);
	printf("libtld's static TLS: %zu bytes\n", tls);
	check_symbols();
	th_done();
}
