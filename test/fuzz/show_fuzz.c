// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer over tldtool's show and keys output, text and JSON, the code
 * root runs over every process's pages. The input is one record as the
 * entry iterator hands it over (tools/tldtool.h): its head, the meta page
 * and the data page, each a hostile process's to write. tldtool's own
 * sources are compiled in; what they would ask of the kernel is stubbed.
 * Output goes to /dev/null: ASan and UBSan judge every read and write.
 *
 * Checked to fail (make mutate): record_keys() without its clamp of the
 * meta page's cnt is found as a stack-buffer-overflow within seconds. The
 * input that overflowed value_json()'s buffer before 2026-12-07 (a start of
 * 0 and a 4,096-byte key) is in corpus/show_fuzz; the fuzzer alone did not
 * find it in 300,000 runs once record_keys() lost its start check, because
 * value_json() now bounds a string by its buffer too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/common.c"
#include "../../tools/decode.c"
#include "../../tools/json.c"
#include "../../tools/show.c"

const char *tld__map_default_path(void)
{
	return "/nonexistent";
}

int tld__map_open(const char *path)
{
	(void)path;
	return -ENOENT;
}

int tldtool_dump(const char *map_path, pid_t pid, tldtool_record_fn fn, void *ctx)
{
	(void)map_path;
	(void)pid;
	(void)fn;
	(void)ctx;
	return -ENOSYS;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct tld_record *r = calloc(1, sizeof(*r));
	struct tldtool t = { 0 };
	struct show s = { .t = &t };

	memcpy(r, d, n < sizeof(*r) ? n : sizeof(*r));
	json_init(&t.j, stdout, n && (d[0] & 1));
	show_record(r, &s);
	keys_record(r, &t);
	t.json = true;
	show_record(r, &s);
	keys_record(r, &t);
	free(r);
	return 0;
}
