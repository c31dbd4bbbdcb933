/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TLD_INTERNAL_H
#define TLD_INTERNAL_H

#include <sys/types.h>

#include "tld/abi.h"
#include "tld/tld.h"

#define TLD_API	__attribute__((visibility("default")))

/* log.c */
__attribute__((format(printf, 2, 3)))
int tld_err(int err, const char *fmt, ...);
void tld_log_hold(void);
void tld_log_release(bool print);

/* keys.c: the key registry and the meta page */
int tld_meta_get(struct tld_meta_u **meta, __u64 *cookie);
void tld_keys_publish(void);
void tld_keys_release(void);

/* guard.c: vouching for entries */
void tld_vouch(enum tld_vouch_op op, __u64 cookie, pid_t tid);

/* map.c: the pinned map */
const char *tld_map_default_path(void);
bool tld_on_bpffs(const char *path);
int tld_map_open(const char *path);
int tld_map_attach(int map_fd, pid_t tid, const struct tld_map_value *value,
		   bool check_uptr);
int tld_map_detach(int map_fd, pid_t tid);

#endif /* TLD_INTERNAL_H */
