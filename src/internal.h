/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What libtld's files share. Every name here is tld__-prefixed: libtld.a
 * puts them in the program's own symbol space, and the public tld_ prefix
 * belongs to the API.
 */
#ifndef TLD_INTERNAL_H
#define TLD_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

#include "tld/abi.h"
#include "tld/tld.h"
#include "tool.h"

#define TLD_API	__attribute__((visibility("default")))

/* How often a thread that failed to register may try again. */
#define TLD_RETRY_NS	100000000ll

/*
 * A thread known to libtld. It is on the process's list from its first
 * tld_get_data() until it exits, with the same page throughout, attached
 * to the map or not; tld__thread_base is set only while it is attached.
 */
struct tld_thread {
	struct tld_thread *next;
	struct tld_thread **pprev;
	char **base;			/* the thread's tld__thread_base */
	struct tld_data_u *page;
	__u16 start;			/* its data area's offset in the page */
	pid_t tid;
	__u64 ino;			/* its task's pidfs inode: names it for life */
	int err;			/* why it is not attached */
	bool attached;			/* its entry is in the map */
	bool exited;			/* past its exit destructor */
};

/*
 * proc.c: the process's state. The lock guards every field; dead is also
 * read without it (tld__enter()).
 */
struct tld_proc {
	pthread_mutex_t lock;
	struct tld_thread *threads;
	int map_fd;			/* direct mode */
	int broker_fd;			/* strict mode: the connection to tldd */
	bool strict;			/* registering through tldd */
	bool uptr_checked;
	bool announce;			/* the guard does not flip the cookie */
	bool hooks_ready;
	bool dead;
	__u64 cookie;			/* this process image's, 0 until needed */
	long long retry_at;		/* no map open before, CLOCK_MONOTONIC ns */
	int open_err;			/* why the map did not open */
	pthread_key_t exit_key;
	char path[PATH_MAX];		/* the map's; empty until chosen */
};

extern struct tld_proc tld__proc;

void tld__lock(void);
/* Unlock, then print what was said under the lock if @print. */
void tld__unlock_report(bool print);
void tld__unlock(void);
int tld__proc_map_ready(bool now);
long long tld__now(void);		/* CLOCK_MONOTONIC, ns */
__u64 tld__proc_cookie(void);
int tld__hooks_setup(void);
int tld__fork_hooks_setup(void);
void tld__fork_prepare_threads(void);
void tld__fork_child_threads(void);
int tld__opts_check(const void *opts, size_t sz, size_t known, const char *type);
/* Lock-free callers bracket their work, so tld_fini() can wait for them. */
bool tld__enter(void);
void tld__leave(void);

/* thread.c: all called with the lock held */
int tld__thread_attach(struct tld_thread *t);
int tld__thread_detach(struct tld_thread *t);
void tld__thread_reap(struct tld_thread *t);
void tld__thread_exit(void *arg);

/* log.c */
__attribute__((format(printf, 2, 3)))
int tld__err(int err, const char *fmt, ...);
/* Messages said by the lock's holder wait for it to let go. */
void tld__log_defer(bool on);
void tld__log_take(char *buf, size_t len);
void tld__log_print(const char *msg);
/* No messages at all: the fork child may not call the user's callback. */
void tld__log_mute(bool on);

/* keys.c: the key registry, published in the meta page */
void tld__keys_publish(void);
void tld__keys_release(void);

/*
 * store.c: the process's pages, in one memfd grown in chunks. At most
 * TLD_MAX_CHUNKS * TLD_CHUNK_PAGES - 1 threads (a page each, by default)
 * or TLD_MAX_CHUNKS * TLD_CHUNK_PAGES (compact); tldd maps that much.
 */
#define TLD_CHUNK_PAGES	256
#define TLD_MAX_CHUNKS	256
int tld__store_meta(struct tld_meta_u **meta);
struct tld_meta_u *tld__store_meta_peek(void);
int tld__store_layout(size_t area);
int tld__store_area(void);
bool tld__store_area_is_page(void);
int tld__store_area_get(struct tld_data_u **page, __u16 *start);
void tld__store_area_put(struct tld_data_u *page, __u16 start);
int tld__store_page_leave(struct tld_data_u *page);
void tld__store_page_empty(void *page);
void tld__store_spares_release(void);
void tld__store_warm_refill(void);
long long tld__store_off(const void *page);
int tld__store_fd(void);
void tld__store_fork_prepare(const struct tld_data_u *keep, __u16 start);
void tld__store_fork_child(void);

/* broker.c: registering through tldd. Lock held. */
const char *tld__broker_path(void);
bool tld__broker_exists(void);
int tld__broker_open(void);
void tld__broker_close(void);
int tld__broker_attach(int pidfd, pid_t tid, const struct tld_map_value *value);
int tld__broker_detach(int pidfd, pid_t tid);
int tld__broker_has_entry(int pidfd, pid_t tid);

/* guard.c: vouching for entries */
void tld__vouch(enum tld_vouch_op op, __u64 cookie, pid_t tid);

/* map.c: the pinned map */
int tld__map_attach(int map_fd, int pidfd, pid_t tid, const struct tld_map_value *value,
		    bool check_uptr);
int tld__map_detach(int map_fd, int pidfd, pid_t tid);
int tld__map_has_entry(int map_fd, int pidfd, pid_t tid);
int tld__map_id(int fd);

#endif /* TLD_INTERNAL_H */
