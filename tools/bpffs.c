// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where tldtool pins things, and who may open them: the bpffs mount, the
 * directories, and the mode and group of a pin.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/tool.h"
#include "tldtool.h"

#define BPFFS_ROOT	"/sys/fs/bpf"

/* Mount the bpffs if @path would live under an unmounted /sys/fs/bpf. */
int bpffs_ensure(const char *path)
{
	if (tld__on_bpffs(path))
		return 0;
	if (strncmp(path, BPFFS_ROOT "/", strlen(BPFFS_ROOT "/")))
		return tldtool_err(0, "%s is not on a bpffs mount", path);
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, NULL))
		return tldtool_err(errno, "cannot mount a bpffs at %s", BPFFS_ROOT);
	return 0;
}

int mkdir_parents(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return tldtool_err(errno, "cannot create %s", dir);
		*p = '/';
	}
	return 0;
}

int parse_mode(const char *s, mode_t *mode)
{
	char *end;
	long v;

	if (!s)
		return 0;
	v = strtol(s, &end, 8);
	if (*end || v < 0 || v > 0777)
		return tldtool_err(0, "--mode %s is not an octal mode like 0660", s);
	*mode = v;
	return 0;
}

int parse_group(const char *s, gid_t *gid)
{
	struct group *gr;
	char *end;
	long v;

	*gid = (gid_t)-1;
	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	if (!*end && v >= 0) {
		*gid = v;
		return 0;
	}
	gr = getgrnam(s);
	if (!gr)
		return tldtool_err(0, "--group %s: no such group", s);
	*gid = gr->gr_gid;
	return 0;
}

int pin_mode(const char *path, mode_t mode)
{
	if (chmod(path, mode))
		return tldtool_err(errno, "cannot set mode %04o on %s", mode, path);
	return 0;
}

int pin_group(const char *path, gid_t gid)
{
	if (chown(path, -1, gid))
		return tldtool_err(errno, "cannot set group %u on %s", gid, path);
	return 0;
}

/*
 * Warn if a directory above @path keeps out the users @mode and @gid admit
 * to it: some systems mount the bpffs 0700, and a pin mode 0666 below it
 * then admits nobody but root. Only a warning: root's processes still use
 * it, and the directory's mode is the administrator's to change.
 */
void pin_reach_check(const char *path, mode_t mode, gid_t gid)
{
	char dir[PATH_MAX];
	struct stat st;
	char *p;

	if (!(mode & 0077))
		return;
	if (gid == (gid_t)-1 && !stat(path, &st))
		gid = st.st_gid;
	snprintf(dir, sizeof(dir), "%s", path);
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (!stat(dir, &st) && !(st.st_mode & S_IXOTH) &&
		    ((mode & 0007) || !(st.st_mode & S_IXGRP) || st.st_gid != gid)) {
			fprintf(stderr, "tldtool: warning: %s is mode %04o: the users mode %04o admits "
				"to %s cannot reach it\n", dir, st.st_mode & 07777, mode, path);
			return;
		}
		*p = '/';
	}
}
