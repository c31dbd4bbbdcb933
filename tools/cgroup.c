// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool cgroup set | get | clear | show: per-cgroup hints, the
 * "user.tld.KEY" extended attributes of cgroup v2 directories. show prints
 * each hint in effect for a cgroup and the cgroup it comes from, nearest
 * first, as BPF's tld_cgroup_hint() finds it.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <linux/magic.h>
#include <tld/cgroup.h>

#include "tldtool.h"

#define SHOWN_MAX	64

struct shown {
	char key[TLD_CGROUP_KEY_MAX + 1];
};

static bool is_cgroup2(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == CGROUP2_SUPER_MAGIC;
}

static bool seen(const struct shown *s, int n, const char *key)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(s[i].key, key))
			return true;
	return false;
}

/* Print @dir's hints not shown for a nearer cgroup. Returns how many are shown now. */
static int show_dir(struct tldtool *t, const char *dir, struct shown *s, int n)
{
	char names[4096], value[TLD_CGROUP_VALUE_MAX], *p;
	size_t plen = strlen(TLD_CGROUP_PREFIX);
	ssize_t len = listxattr(dir, names, sizeof(names));

	for (p = names; len > 0 && p < names + len; p += strlen(p) + 1) {
		if (strncmp(p, TLD_CGROUP_PREFIX, plen) || strlen(p + plen) > TLD_CGROUP_KEY_MAX ||
		    seen(s, n, p + plen) || n == SHOWN_MAX)
			continue;
		if (tld_cgroup_hint_get(dir, p + plen, value, sizeof(value)) < 0)
			continue;
		snprintf(s[n++].key, sizeof(s[0].key), "%s", p + plen);
		if (t->json) {
			json_object_start(&t->j, NULL);
			json_str(&t->j, "key", p + plen);
			json_str(&t->j, "value", value);
			json_str(&t->j, "from", dir);
			json_object_end(&t->j);
		} else {
			printf("%-*s ", TLD_CGROUP_KEY_MAX, p + plen);
			print_escaped(stdout, value, SIZE_MAX, 0);
			printf("  (%s)\n", dir);
		}
	}
	return n;
}

static int cgroup_show(struct tldtool *t, const char *path)
{
	struct shown s[SHOWN_MAX];
	char dir[PATH_MAX], *slash;
	int n = 0;

	if (!is_cgroup2(path))
		return tldtool_err(0, "%s is not a cgroup v2 directory", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if (t->json)
		json_array_start(&t->j, NULL);
	/* Nearest first, up to the hierarchy's root. */
	while (is_cgroup2(dir)) {
		n = show_dir(t, dir, s, n);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	if (t->json)
		json_array_end(&t->j);
	return TLDTOOL_OK;
}

int tldtool_cgroup(struct tldtool *t, int argc, char **argv)
{
	char value[TLD_CGROUP_VALUE_MAX];
	int n;

	if (argc == 4 && !strcmp(argv[0], "set"))
		return tld_cgroup_hint_set(argv[1], argv[2], argv[3]) ? TLDTOOL_ERROR : TLDTOOL_OK;
	if (argc == 3 && !strcmp(argv[0], "clear"))
		return tld_cgroup_hint_clear(argv[1], argv[2]) ? TLDTOOL_ERROR : TLDTOOL_OK;
	if (argc == 3 && !strcmp(argv[0], "get")) {
		n = tld_cgroup_hint_get(argv[1], argv[2], value, sizeof(value));
		if (n == -ENODATA)
			return tldtool_err(0, "%s has no hint %s of its own", argv[1], argv[2]);
		if (n < 0)
			return TLDTOOL_ERROR;
		print_escaped(stdout, value, SIZE_MAX, 0);
		putchar('\n');
		return TLDTOOL_OK;
	}
	if (argc == 2 && !strcmp(argv[0], "show"))
		return cgroup_show(t, argv[1]);
	tldtool_err(0, "usage: tldtool cgroup set PATH KEY VALUE | get PATH KEY | clear PATH KEY | show PATH");
	return TLDTOOL_USAGE;
}
