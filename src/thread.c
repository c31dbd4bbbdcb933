// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads: registration on first use, release at thread exit, fork, and the
 * process-wide state they share (the map and the registered threads).
 *
 * Each registered thread owns one page. So its pointers never move, and any
 * key created later, up to the page, fits every thread already running. The
 * page comes from mmap, not the heap: a BPF store that lands after the entry
 * is gone hits a page the kernel still pins, never memory libtld reuses.
 */
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "syscall.h"

struct tld_thread {
	struct tld_thread *next;
	struct tld_thread **pprev;	/* NULL: not in the map */
	struct tld_data_u *page;
	pid_t tid;
	int err;			/* why registration failed */
	bool exited;			/* past its exit destructor */
};

TLD_API __thread char *tld__thread_base __attribute__((tls_model("initial-exec")));
static __thread struct tld_thread tld_self;

static struct {
	pthread_mutex_t lock;		/* guards everything below */
	struct tld_thread *threads;
	int map_fd;
	bool uptr_checked;
	bool hooks_ready;
	bool dead;
	pthread_key_t exit_key;
	char path[PATH_MAX];
} tld_proc = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.map_fd = -1,
};

static void tld_lock(void)
{
	pthread_mutex_lock(&tld_proc.lock);
}

static void tld_unlock(void)
{
	pthread_mutex_unlock(&tld_proc.lock);
}

static void tld_thread_link(struct tld_thread *t)
{
	t->next = tld_proc.threads;
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = &tld_proc.threads;
	tld_proc.threads = t;
}

static void tld_thread_unlink(struct tld_thread *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

static void tld_value_fill(struct tld_map_value *value, struct tld_data_u *page,
			   struct tld_meta_u *meta)
{
	memset(value, 0, sizeof(*value));
	value->data = page;
	value->meta = meta;
	value->start = TLD_DATA_HDR;
}

/*
 * Point @t's entry in the map at its page, vouched for. Called with the
 * lock held.
 */
static int tld_thread_attach(struct tld_thread *t, int map_fd)
{
	struct tld_map_value value;
	struct tld_meta_u *meta;
	__u64 cookie;
	int err;

	err = tld_meta_get(&meta, &cookie);
	if (err)
		return err;
	t->page->unused = cookie;
	tld_value_fill(&value, t->page, meta);
	tld_vouch(TLD_VOUCH_ANNOUNCE, cookie, t->tid);
	err = tld_map_attach(map_fd, t->tid, &value, !tld_proc.uptr_checked);
	if (err)
		return err;
	tld_proc.uptr_checked = true;
	tld_vouch(TLD_VOUCH_COMMIT, cookie, t->tid);
	return 0;
}

/* Remove @t's entry. Called with the lock held. */
static void tld_thread_detach(struct tld_thread *t)
{
	tld_vouch(TLD_VOUCH_WITHDRAW, 0, t->tid);
	tld_map_detach(tld_proc.map_fd, t->tid);
	tld_thread_unlink(t);
}

static void tld_thread_exit(void *arg);
static void tld_fork_prepare(void);
static void tld_fork_parent(void);
static void tld_fork_child(void);

/* Called with the lock held. */
static int tld_hooks_setup(void)
{
	int err;

	if (tld_proc.hooks_ready)
		return 0;
	if (sysconf(_SC_PAGESIZE) != TLD_PAGE_SIZE)
		return tld_err(-EOPNOTSUPP, "tld ABI v%d needs %d-byte pages, not %ld",
			       TLD_ABI_VERSION, TLD_PAGE_SIZE, sysconf(_SC_PAGESIZE));
	err = pthread_key_create(&tld_proc.exit_key, tld_thread_exit);
	if (err)
		return tld_err(-err, "cannot create the thread-exit key");
	err = pthread_atfork(tld_fork_prepare, tld_fork_parent, tld_fork_child);
	if (err) {
		pthread_key_delete(tld_proc.exit_key);
		return tld_err(-err, "cannot install the fork handlers");
	}
	tld_proc.hooks_ready = true;
	return 0;
}

/* Called with the lock held. */
static int tld_map_ready(void)
{
	int fd;

	if (tld_proc.dead)
		return tld_err(-ESHUTDOWN, "tld_fini() was called");
	if (tld_proc.map_fd >= 0)
		return 0;
	if (!tld_proc.path[0])
		snprintf(tld_proc.path, sizeof(tld_proc.path), "%s", tld_map_default_path());
	fd = tld_map_open(tld_proc.path);
	if (fd < 0)
		return fd;
	tld_proc.map_fd = fd;
	return 0;
}

static int tld_thread_register(struct tld_thread *t)
{
	struct tld_data_u *page;
	int err;

	page = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return tld_err(-errno, "cannot map a data page");
	t->page = page;
	t->tid = tld_sys_gettid();
	tld_lock();
	err = tld_hooks_setup();
	if (!err)
		err = tld_map_ready();
	if (!err)
		err = tld_thread_attach(t, tld_proc.map_fd);
	if (!err) {
		tld_thread_link(t);
		pthread_setspecific(tld_proc.exit_key, t);
	}
	tld_unlock();
	if (err) {
		t->page = NULL;
		munmap(page, TLD_PAGE_SIZE);
		return err;
	}
	tld__thread_base = (char *)page + TLD_DATA_HDR - 1;
	return 0;
}

TLD_API int tld_thread_init(void)
{
	if (tld__thread_base)
		return 0;
	if (tld_self.exited)
		return tld_err(-ESRCH, "thread %d is exiting", tld_sys_gettid());
	tld_self.err = tld_thread_register(&tld_self);
	return tld_self.err;
}

/*
 * Registration on first use. A thread that fails does not try again until
 * tld_thread_init(), and a failure is printed only when it differs from the
 * previous one: a missing map would otherwise be reported by every thread.
 */
static void tld_thread_register_implicit(void)
{
	static _Atomic int last_err;
	int err;

	tld_log_hold();
	err = tld_thread_register(&tld_self);
	tld_log_release(err && __atomic_exchange_n(&last_err, err, __ATOMIC_RELAXED) != err);
	tld_self.err = err;
}

TLD_API void *tld__get_data_slow(tld_key_t key)
{
	int saved_errno = errno;
	void *p = NULL;

	if (key.raw <= 0 || key.raw > TLD_DATA_MAX)
		goto out;
	if (!tld__thread_base && !tld_self.err && !tld_self.exited)
		tld_thread_register_implicit();
	if (tld__thread_base)
		p = tld__thread_base + key.raw;
out:
	errno = saved_errno;
	return p;
}

/*
 * The entry goes before the page, so that BPF never reads or writes memory
 * this process has let go of.
 */
static void tld_thread_exit(void *arg)
{
	struct tld_thread *t = arg;

	tld_lock();
	if (t->pprev)
		tld_thread_detach(t);
	tld_unlock();
	tld__thread_base = NULL;
	if (t->page)
		munmap(t->page, TLD_PAGE_SIZE);
	t->page = NULL;
	t->exited = true;
}

static void tld_fork_prepare(void)
{
	tld_lock();
}

static void tld_fork_parent(void)
{
	tld_unlock();
}

/*
 * The child has only the forking thread, and the kernel gave it none of the
 * parent's task storage: register that thread anew with its copy of the page
 * (the kernel copies pinned pages at fork; the parent keeps the originals).
 */
static void tld_fork_child(void)
{
	struct tld_thread *t, *next;
	int err;

	for (t = tld_proc.threads; t; t = next) {
		next = t->next;
		if (t == &tld_self)
			continue;
		munmap(t->page, TLD_PAGE_SIZE);
		tld_thread_unlink(t);
	}
	tld_keys_publish();
	if (tld_self.pprev) {
		tld_self.tid = tld_sys_gettid();
		err = tld_thread_attach(&tld_self, tld_proc.map_fd);
		if (err) {
			/* Keep the page: pointers cached before fork stay valid. */
			tld_thread_unlink(&tld_self);
			tld_self.err = err;
			tld__thread_base = NULL;
		}
	}
	tld_unlock();
}

static int tld_opts_check(const struct tld_opts *opts)
{
	const char *p;

	if (!opts)
		return 0;
	if (opts->sz < sizeof(opts->sz))
		return tld_err(-EINVAL, "struct tld_opts: sz %zu is too small", opts->sz);
	for (p = (const char *)opts + sizeof(*opts); p < (const char *)opts + opts->sz; p++)
		if (*p)
			return tld_err(-EINVAL, "struct tld_opts: this libtld does not know the fields past byte %zu",
				       sizeof(*opts));
	return 0;
}

static const char *tld_opts_map_path(const struct tld_opts *opts)
{
	if (opts && opts->sz >= offsetof(struct tld_opts, map_path) + sizeof(opts->map_path) &&
	    opts->map_path)
		return opts->map_path;
	return tld_map_default_path();
}

TLD_API int tld_init(const struct tld_opts *opts)
{
	const char *path;
	int fd, err;

	err = tld_opts_check(opts);
	if (err)
		return err;
	path = tld_opts_map_path(opts);
	if (strlen(path) >= sizeof(tld_proc.path))
		return tld_err(-ENAMETOOLONG, "map path is longer than %d bytes", PATH_MAX - 1);
	tld_lock();
	if (tld_proc.dead)
		err = tld_err(-ESHUTDOWN, "tld_fini() was called");
	else if (tld_proc.map_fd >= 0)
		err = tld_err(-EALREADY, "map %s is already open", tld_proc.path);
	else if ((fd = tld_map_open(path)) < 0)
		err = fd;
	else {
		tld_proc.map_fd = fd;
		strcpy(tld_proc.path, path);
	}
	tld_unlock();
	return err;
}

/* Called with the lock held: register every thread in the map @fd. */
static int tld_attach_all(int fd)
{
	struct tld_thread *t;
	int n = 0, err, first_err = 0;

	for (t = tld_proc.threads; t; t = t->next) {
		err = tld_thread_attach(t, fd);
		if (!err)
			n++;
		else if (!first_err)
			first_err = err;
	}
	return first_err ? first_err : n;
}

TLD_API int tld_refresh(void)
{
	int fd, ret;

	tld_lock();
	if (tld_proc.dead) {
		ret = tld_err(-ESHUTDOWN, "tld_fini() was called");
		goto out;
	}
	if (!tld_proc.path[0])
		snprintf(tld_proc.path, sizeof(tld_proc.path), "%s", tld_map_default_path());
	fd = tld_map_open(tld_proc.path);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = tld_attach_all(fd);
	if (tld_proc.map_fd >= 0)
		tld_sys_close(tld_proc.map_fd);
	tld_proc.map_fd = fd;
out:
	tld_unlock();
	return ret;
}

/*
 * Other threads may still store through their pointers (at process exit
 * they are still running), so their pages stay mapped but are emptied; each
 * thread unmaps its own when it exits.
 */
TLD_API void tld_fini(void)
{
	struct tld_thread *t, *next;

	tld_lock();
	if (tld_proc.dead)
		goto out;
	tld_proc.dead = true;
	for (t = tld_proc.threads; t; t = next) {
		next = t->next;
		tld_thread_detach(t);
		madvise(t->page, TLD_PAGE_SIZE, MADV_DONTNEED);
	}
	tld__thread_base = NULL;
	if (tld_proc.map_fd >= 0)
		tld_sys_close(tld_proc.map_fd);
	tld_proc.map_fd = -1;
	tld_keys_release();
out:
	tld_unlock();
}

/* dlclose() of libtld: nothing may call back into the unloaded code. */
__attribute__((destructor))
static void tld_unload(void)
{
	tld_fini();
	if (tld_proc.hooks_ready)
		pthread_key_delete(tld_proc.exit_key);
}
