/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-cgroup hints ("this tenant is latency-critical") for ordinary
 * applications and their managers: set by whoever may manage the cgroup,
 * read by BPF as the nearest ancestor's value, the way cgroup interface
 * files are inherited.
 *
 *	tld_cgroup_hint_set("/sys/fs/cgroup/app.slice/web", "latency", "1");
 *
 * A hint is the extended attribute "user.tld.KEY" of the cgroup v2
 * directory, its value text (a decimal number, for BPF's
 * tld_cgroup_hint_u64()). The kernel checks who may set it as for any
 * file: root, or the owner of a delegated cgroup; everyone else gets
 * -EACCES. See docs/agent.md.
 */
#ifndef TLD_CGROUP_H
#define TLD_CGROUP_H

#define TLD_CGROUP_PREFIX	"user.tld."
/* Longest key, without the prefix; longest value, with its NUL. */
#define TLD_CGROUP_KEY_MAX	32
#define TLD_CGROUP_VALUE_MAX	64

#ifndef __bpf__
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Set hint @key of the cgroup directory @cgroup to @value. 0 or -errno. */
int tld_cgroup_hint_set(const char *cgroup, const char *key, const char *value);

/* Remove it; 0 also if it was not set. */
int tld_cgroup_hint_clear(const char *cgroup, const char *key);

/*
 * @cgroup's own value of @key (not an ancestor's), NUL-terminated in
 * @value: its length, -ENODATA if it has none, or -errno.
 */
int tld_cgroup_hint_get(const char *cgroup, const char *key, char *value, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* !__bpf__ */

#endif /* TLD_CGROUP_H */
