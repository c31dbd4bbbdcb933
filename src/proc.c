// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process's side of libtld: the map it uses, its cookie, fork, and
 * shutdown (tld_init(), tld_refresh(), tld_fini() and unload).
 *
 * Shutdown has one flag, dead, and two kinds of users to stop. Those that
 * take the lock (registration, thread exit) check it under the lock. Key
 * creators are lock-free; each counts itself in users before it reads
 * dead, and tld_fini() sets dead before it waits for users to drain, so
 * that (both sides sequentially consistent) no creator can be inside the
 * registry when its memory goes.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "syscall.h"

struct tld_proc tld__proc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.map_fd = -1,
	.broker_fd = -1,
};

static int tld_users;

void tld__lock(void)
{
	pthread_mutex_lock(&tld__proc.lock);
	tld__log_defer(true);
}

void tld__unlock_report(bool print)
{
	char msg[1024];

	tld__log_take(msg, sizeof(msg));
	tld__log_defer(false);
	pthread_mutex_unlock(&tld__proc.lock);
	if (print)
		tld__log_print(msg);
}

void tld__unlock(void)
{
	tld__unlock_report(true);
}

long long tld__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static bool tld_dead(void)
{
	return __atomic_load_n(&tld__proc.dead, __ATOMIC_SEQ_CST);
}

/* Once dead is seen, callers stay out of users, so that tld_fini()'s wait ends. */
bool tld__enter(void)
{
	if (tld_dead())
		return false;
	__atomic_add_fetch(&tld_users, 1, __ATOMIC_SEQ_CST);
	if (!tld_dead())
		return true;
	tld__leave();
	return false;
}

void tld__leave(void)
{
	__atomic_sub_fetch(&tld_users, 1, __ATOMIC_RELEASE);
}

/*
 * Different for every process image, even without ASLR: TLD_COOKIE() of 32
 * random bits, so that readers of scx's layout find the data area's start
 * in the page's first u64 (tld/abi.h).
 */
__u64 tld__proc_cookie(void)
{
	struct timespec ts;
	__u32 r;

	if (tld__proc.cookie)
		return tld__proc.cookie;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (__u32)(((__u64)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
			     (__u64)ts.tv_sec << 32 ^ (__u64)getpid()) >> 32);
	}
	tld__proc.cookie = TLD_COOKIE(r);
	return tld__proc.cookie;
}

static void tld_fork_prepare(void)
{
	tld__lock();
	tld__fork_prepare_threads();
}

/*
 * The child knows the parent's cookie, and may drop privileges and turn
 * against it; the parent's next registrations use a new one. The child
 * gets its own as well. The entries vouched for already stay vouched.
 */
static void tld_fork_parent(void)
{
	tld__proc.cookie = 0;
	tld__unlock();
}

/* Until exec, the child may call only async-signal-safe functions. */
static void tld_fork_child(void)
{
	tld__log_mute(true);
	tld__proc.cookie = 0;
	tld__store_fork_child();
	tld__keys_publish();
	tld__fork_child_threads();
	tld__log_mute(false);
	tld__log_defer(false);
	pthread_mutex_unlock(&tld__proc.lock);
}

static pthread_once_t tld_fork_once = PTHREAD_ONCE_INIT;
static int tld_fork_err;

static void tld_fork_install(void)
{
	tld_fork_err = pthread_atfork(tld_fork_prepare, tld_fork_parent, tld_fork_child);
}

/*
 * Once the store exists, before any thread registers: a fork child must
 * never share its parent's store (keys made at startup make it).
 */
int tld__fork_hooks_setup(void)
{
	pthread_once(&tld_fork_once, tld_fork_install);
	if (tld_fork_err)
		return tld__err(-tld_fork_err, "cannot install the fork handlers");
	return 0;
}

int tld__hooks_setup(void)
{
	int err;

	if (tld__proc.hooks_ready)
		return 0;
	if (sysconf(_SC_PAGESIZE) != TLD_PAGE_SIZE)
		return tld__err(-EOPNOTSUPP, "tld ABI v%d needs %d-byte pages, not %ld",
				TLD_ABI_VERSION, TLD_PAGE_SIZE, sysconf(_SC_PAGESIZE));
	err = tld__fork_hooks_setup();
	if (err)
		return err;
	err = pthread_key_create(&tld__proc.exit_key, tld__thread_exit);
	if (err)
		return tld__err(-err, "cannot create the thread-exit key");
	tld__proc.hooks_ready = true;
	return 0;
}

static void tld_path_choose(void)
{
	if (!tld__proc.path[0])
		snprintf(tld__proc.path, sizeof(tld__proc.path), "%s", tld__map_default_path());
}

/*
 * Direct mode where this process may open the map for writing; strict mode
 * (tldd) where it may not and tldd's socket exists. Replaces the mode in
 * use, if any. Lock held.
 */
static int tld_proc_connect(void)
{
	bool direct;
	int fd;

	tld_path_choose();
	fd = tld_bpf_obj_get(tld__proc.path);
	direct = fd >= 0 || !tld__broker_exists();
	if (fd >= 0)
		tld_sys_close(fd);
	fd = direct ? tld__map_open(tld__proc.path) : -1;
	if (direct && fd < 0)
		return fd;
	if (tld__proc.map_fd >= 0)
		tld_sys_close(tld__proc.map_fd);
	tld__proc.map_fd = fd;
	tld__broker_close();
	tld__proc.strict = !direct;
	tld__proc.announce = false;
	return direct ? 0 : tld__broker_open();
}

/*
 * Choose the mode if none is chosen. A failure is kept, and until retry_at
 * returned without another try unless @now.
 */
int tld__proc_map_ready(bool now)
{
	int err;

	if (tld_dead())
		return tld__err(-ESHUTDOWN, "tld_fini() was called");
	if (tld__proc.map_fd >= 0 || tld__proc.strict)
		return 0;
	if (!now && tld__proc.open_err && tld__now() < tld__proc.retry_at)
		return tld__proc.open_err;
	err = tld_proc_connect();
	if (err) {
		tld__proc.strict = false;
		__atomic_store_n(&tld__proc.retry_at, tld__now() + TLD_RETRY_NS, __ATOMIC_RELAXED);
		return tld__proc.open_err = err;
	}
	tld__proc.open_err = 0;
	return 0;
}

/*
 * An opts struct of @sz bytes from a caller built against any libtld: the
 * fields this one does not know (past @known) must be zero.
 */
int tld__opts_check(const void *opts, size_t sz, size_t known, const char *type)
{
	const char *p;

	if (!opts)
		return 0;
	if (sz < sizeof(size_t))
		return tld__err(-EINVAL, "struct %s: sz %zu is too small", type, sz);
	for (p = (const char *)opts + known; p < (const char *)opts + sz; p++)
		if (*p)
			return tld__err(-EINVAL, "struct %s: this libtld does not know the fields past byte %zu",
					type, known);
	return 0;
}

static const char *tld_opts_map_path(const struct tld_opts *opts)
{
	if (opts && opts->sz >= offsetof(struct tld_opts, map_path) + sizeof(opts->map_path) &&
	    opts->map_path)
		return opts->map_path;
	return tld__map_default_path();
}

static size_t tld_opts_compact(const struct tld_opts *opts)
{
	if (opts && opts->sz >= offsetof(struct tld_opts, compact) + sizeof(opts->compact))
		return opts->compact;
	return 0;
}

/* Called with the lock held. */
static int tld_init_locked(const char *path, size_t compact)
{
	int err;

	if (tld_dead())
		return tld__err(-ESHUTDOWN, "tld_fini() was called");
	err = compact ? tld__store_layout(compact) : 0;
	if (err)
		return err;
	if (tld__proc.map_fd >= 0 && strcmp(tld__proc.path, path))
		return tld__err(-EALREADY, "libtld already uses the map %s; tld_init() asked for %s",
				tld__proc.path, path);
	strcpy(tld__proc.path, path);
	return tld__proc_map_ready(true);
}

TLD_API int tld_init(const struct tld_opts *opts)
{
	const char *path;
	int err;

	err = tld__opts_check(opts, opts ? opts->sz : 0, sizeof(*opts), "tld_opts");
	if (err)
		return err;
	path = tld_opts_map_path(opts);
	if (strlen(path) >= sizeof(tld__proc.path))
		return tld__err(-ENAMETOOLONG, "map path is longer than %d bytes", PATH_MAX - 1);
	tld__lock();
	err = tld_init_locked(path, tld_opts_compact(opts));
	tld__unlock();
	return err;
}

/*
 * Called with the lock held: attach every known thread to the open map,
 * and forget those that exited without their destructor.
 */
static int tld_attach_all(void)
{
	struct tld_thread *t, *next;
	int n = 0, err, first_err = 0;

	for (t = tld__proc.threads; t; t = next) {
		next = t->next;
		err = tld__thread_attach(t);
		if (!err)
			n++;
		else if (err == -ESRCH)
			tld__thread_reap(t);
		else if (!first_err)
			first_err = err;
	}
	return first_err ? first_err : n;
}

TLD_API int tld_refresh(void)
{
	int ret;

	tld__lock();
	if (tld_dead()) {
		ret = tld__err(-ESHUTDOWN, "tld_fini() was called");
		goto out;
	}
	ret = tld_proc_connect();
	if (ret)
		goto out;
	tld__proc.open_err = 0;
	ret = tld_attach_all();
out:
	tld__unlock();
	return ret;
}

/*
 * Other threads may still store through their pointers (at process exit
 * they are still running), so their pages stay mapped but are emptied; each
 * thread gives its own back when it exits.
 */
TLD_API void tld_fini(void)
{
	struct tld_thread *t;

	tld__lock();
	if (tld_dead()) {
		tld__unlock();
		return;
	}
	__atomic_store_n(&tld__proc.dead, true, __ATOMIC_SEQ_CST);
	for (t = tld__proc.threads; t; t = t->next) {
		tld__thread_detach(t);
		tld__store_page_empty(t->page);
	}
	tld__store_spares_release();
	if (tld__proc.map_fd >= 0)
		tld_sys_close(tld__proc.map_fd);
	tld__proc.map_fd = -1;
	tld__broker_close();
	tld__proc.strict = false;
	/* Under the lock: a fork now would publish keys from freed memory. */
	while (__atomic_load_n(&tld_users, __ATOMIC_ACQUIRE))
		sched_yield();
	tld__keys_release();
	tld__unlock();
}

/* dlclose() of libtld: nothing may call back into the unloaded code. */
__attribute__((destructor))
static void tld_unload(void)
{
	tld_fini();
	if (tld__proc.hooks_ready)
		pthread_key_delete(tld__proc.exit_key);
}
