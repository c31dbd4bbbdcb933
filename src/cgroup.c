// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-cgroup hints: "user.tld.KEY" extended attributes on a cgroup v2
 * directory, the convention systemd keeps for its own per-cgroup hints
 * (user.oomd_avoid). The kernel decides who may set them, as for any
 * file: whoever may write the directory, that is root or the owner of a
 * delegated subtree. BPF reads them with bpf_cgroup_read_xattr() and takes
 * the nearest ancestor's (tld/cgroup.bpf.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "internal.h"
#include "tld/cgroup.h"

static int tld_cgroup_attr(const char *key, char *attr, size_t len)
{
	size_t n = key ? strlen(key) : 0;
	const char *p;

	if (!n || n > TLD_CGROUP_KEY_MAX)
		return tld__err(-EINVAL, "cgroup hint key '%s' must have 1..%d characters",
				key ? key : "", TLD_CGROUP_KEY_MAX);
	for (p = key; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '_' &&
		    *p != '.' && *p != '-')
			return tld__err(-EINVAL, "cgroup hint key '%s': only a-z, 0-9, '_', '.' and '-'",
					key);
	snprintf(attr, len, "%s%s", TLD_CGROUP_PREFIX, key);
	return 0;
}

TLD_API int tld_cgroup_hint_set(const char *cgroup, const char *key, const char *value)
{
	char attr[sizeof(TLD_CGROUP_PREFIX) + TLD_CGROUP_KEY_MAX];
	size_t n = value ? strlen(value) : 0;
	int err;

	err = tld_cgroup_attr(key, attr, sizeof(attr));
	if (err)
		return err;
	if (!n || n >= TLD_CGROUP_VALUE_MAX)
		return tld__err(-EINVAL, "cgroup hint %s: the value must have 1..%d bytes", key,
				TLD_CGROUP_VALUE_MAX - 1);
	if (setxattr(cgroup, attr, value, n, 0))
		return tld__err(-errno, errno == EACCES || errno == EPERM ?
				"cannot set hint %s on %s: only root and the owner of a delegated cgroup may" :
				"cannot set hint %s on %s", key, cgroup);
	return 0;
}

TLD_API int tld_cgroup_hint_clear(const char *cgroup, const char *key)
{
	char attr[sizeof(TLD_CGROUP_PREFIX) + TLD_CGROUP_KEY_MAX];
	int err;

	err = tld_cgroup_attr(key, attr, sizeof(attr));
	if (err)
		return err;
	if (removexattr(cgroup, attr) && errno != ENODATA)
		return tld__err(-errno, "cannot clear hint %s on %s", key, cgroup);
	return 0;
}

TLD_API int tld_cgroup_hint_get(const char *cgroup, const char *key, char *value, size_t len)
{
	char attr[sizeof(TLD_CGROUP_PREFIX) + TLD_CGROUP_KEY_MAX];
	ssize_t n;
	int err;

	err = tld_cgroup_attr(key, attr, sizeof(attr));
	if (err)
		return err;
	if (!len)
		return -EINVAL;
	n = getxattr(cgroup, attr, value, len - 1);
	if (n < 0)
		return errno == ENODATA ? -ENODATA :
		       tld__err(-errno, "cannot read hint %s of %s", key, cgroup);
	value[n] = '\0';
	return n;
}
