// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One thread's life: its page, its entry in the map, its exit.
 *
 * Each thread that asks for data owns one data area from then until it
 * exits: a page, or in the compact layout a fixed part of one (store.c).
 * So its pointers never move: not when its registration fails and later
 * works, not when its entry is attached again (tld_refresh(), a map made
 * anew). Any key created later, up to the area's size, fits every thread
 * already running. The area comes from the process's store, not the heap:
 * a BPF store that lands after the entry is gone hits a page the kernel
 * still pins, never memory libtld reuses (in the compact layout, only once
 * the page's last area is given back).
 *
 * tld__thread_base is the hot path's only state. It is set exactly while
 * the thread's entry is attached and the thread has not begun to exit
 * (the entry may outlive that: tld_thread_give_back()), and other threads
 * change it (tld_fini(), tld_refresh()) with relaxed atomic stores, so
 * that every thread sees shutdown and recovery at its next tld_get_data().
 */
#include <stddef.h>
#include <sys/stat.h>

#include "internal.h"
#include "syscall.h"

TLD_API __thread char *tld__thread_base __attribute__((tls_model("initial-exec")));
static __thread struct tld_thread tld_self;

static void tld_thread_base_set(struct tld_thread *t, bool attached)
{
	char *base = attached ? (char *)t->page + t->start - 1 : NULL;

	t->attached = attached;
	__atomic_store_n(t->base, base, __ATOMIC_RELAXED);
}

static void tld_thread_link(struct tld_thread *t)
{
	t->next = tld__proc.threads;
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = &tld__proc.threads;
	tld__proc.threads = t;
}

static void tld_thread_unlink(struct tld_thread *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/*
 * A pidfd for @t's thread, or -ESRCH (said only if @t is the caller) if no
 * task with its tid is that thread. A thread that exited without its
 * destructor (a raw exit(2)) stays on the list, and another task may have
 * its tid now; pidfs gives each task an inode number of its own for life,
 * so a pidfd whose inode differs from the one seen at registration is not
 * @t's, and nothing is attached to, or removed from, that task.
 */
static int tld_thread_pidfd(struct tld_thread *t)
{
	int pidfd = tld_sys_pidfd_open(t->tid);
	struct stat st;

	if (pidfd == -EINVAL)
		return tld__err(pidfd, "pidfd_open(%d, PIDFD_THREAD) failed: the kernel is older than 6.9",
				t->tid);
	if (pidfd < 0 && (pidfd != -ESRCH || t == &tld_self))
		return tld__err(pidfd, "pidfd_open(%d, PIDFD_THREAD)", t->tid);
	if (pidfd < 0)
		return pidfd;
	if (fstat(pidfd, &st)) {
		tld_sys_close(pidfd);
		return tld__err(-errno, "fstat of thread %d's pidfd", t->tid);
	}
	if (t->ino && st.st_ino != t->ino) {
		tld_sys_close(pidfd);
		return -ESRCH;
	}
	t->ino = st.st_ino;
	return pidfd;
}

static int tld_entry_set(struct tld_thread *t, int pidfd, const struct tld_map_value *value)
{
	int err;

	if (tld__proc.strict) {
		err = tld__broker_attach(pidfd, t->tid, value);
	} else {
		err = tld__map_attach(tld__proc.map_fd, pidfd, t->tid, value,
				      !tld__proc.uptr_checked);
		if (!err)
			tld__proc.uptr_checked = true;
	}
	return err;
}

static int tld_entry_has(struct tld_thread *t)
{
	int pidfd = tld_thread_pidfd(t), has;

	if (pidfd < 0)
		return pidfd;
	if (tld__proc.strict)
		has = tld__broker_has_entry(pidfd, t->tid);
	else
		has = tld__map_has_entry(tld__proc.map_fd, pidfd, t->tid);
	tld_sys_close(pidfd);
	return has;
}

/*
 * Whether to announce @t's entry before its update. The announcement keeps
 * the guard's sweep off the entry until the commit. The sweep runs at a
 * wakeup that enqueues the task and at its switch-in, both before it runs
 * again, and the commit announces itself before it looks the entry up; so
 * a sweep of the calling thread's own removes its entry before the commit,
 * never after, and the guard's flip of the cookie (TLD_COOKIE_VOUCHED) says
 * whether the commit found it. (Before 7.0 the guard's retry queue sweeps
 * from any CPU, a window one commit long: docs/security.md.) Announced:
 * another thread's entry (tld_refresh(), whose thread runs meanwhile);
 * strict mode, where the thread sleeps until tldd has updated; the
 * process's first update, which is read back (tld__map_attach()'s __uptr
 * check); and every update once a guard has not flipped an announced
 * commit (there is none, or it is older).
 */
static bool tld_entry_announced(const struct tld_thread *t)
{
	return t != &tld_self || tld__proc.strict || !tld__proc.uptr_checked ||
	       tld__proc.announce;
}

/*
 * Attach @value, whose page carries @cookie, as @t's entry, and vouch for
 * it. An unannounced commit that did not flip the cookie (a sweep or a
 * plant came in between, or the guard does not flip) is made again,
 * announced; whether that one flips says whether the guard does.
 */
static int tld_entry_vouched_set(struct tld_thread *t, int pidfd,
				 const struct tld_map_value *value, __u64 cookie)
{
	bool announce = tld_entry_announced(t), flipped;
	int err;

	for (;;) {
		t->page->unused = cookie;
		if (announce)
			tld__vouch(TLD_VOUCH_ANNOUNCE, cookie, t->tid);
		err = tld_entry_set(t, pidfd, value);
		if (err)
			return err;
		tld__vouch(TLD_VOUCH_COMMIT, cookie, t->tid);
		flipped = *(volatile __u64 *)&t->page->unused == (cookie ^ TLD_COOKIE_VOUCHED);
		if (announce) {
			tld__proc.announce = !flipped;
			return 0;
		}
		if (flipped)
			return 0;
		announce = true;
	}
}

/* 0 once @t's entry is gone, with its task or by a delete; else -errno: it may remain. */
static int tld_entry_remove(struct tld_thread *t)
{
	int pidfd = tld_thread_pidfd(t), err;

	if (pidfd == -ESRCH)
		return 0;
	if (pidfd < 0)
		return pidfd;
	if (tld__proc.strict)
		err = tld__broker_detach(pidfd, t->tid);
	else
		err = tld__map_detach(tld__proc.map_fd, pidfd, t->tid);
	tld_sys_close(pidfd);
	return err;
}

/* Point @t's entry at its page, vouched for. */
int tld__thread_attach(struct tld_thread *t)
{
	struct tld_map_value value = { 0 };
	struct tld_meta_u *meta;
	int err, pidfd;
	__u64 cookie;

	err = tld__store_meta(&meta);
	if (err)
		goto fail;
	pidfd = err = tld_thread_pidfd(t);
	if (pidfd < 0)
		goto fail;
	cookie = tld__proc_cookie();
	value.data = t->page;
	value.meta = meta;
	value.start = t->start;
	err = tld_entry_vouched_set(t, pidfd, &value, cookie);
	tld_sys_close(pidfd);
	if (err)
		goto fail;
	t->err = 0;
	tld_thread_base_set(t, true);
	return 0;
fail:
	t->err = err;
	tld_thread_base_set(t, false);
	return err;
}

/*
 * Remove @t's entry, if it has one: 0, or -errno if it may remain. The
 * area stays, and so does @t.
 */
int tld__thread_detach(struct tld_thread *t)
{
	bool attached = t->attached;

	tld_thread_base_set(t, false);
	if (!attached)
		return 0;
	tld__vouch(TLD_VOUCH_WITHDRAW, 0, t->tid);
	return tld_entry_remove(t);
}

/* The calling thread's page and place on the list. Called with the lock held. */
static int tld_thread_join(struct tld_thread *t)
{
	int err;

	if (t->pprev)
		return 0;
	err = tld__hooks_setup();
	if (!err)
		err = tld__store_area_get(&t->page, &t->start);
	if (err)
		return err;
	t->tid = tld_sys_gettid();
	t->base = &tld__thread_base;
	tld_thread_link(t);
	pthread_setspecific(tld__proc.exit_key, t);
	return 0;
}

/*
 * Attach the calling thread; @now: even if a failure moments ago says to
 * wait. Returns with the lock held, for the caller to report.
 */
static int tld_thread_register(struct tld_thread *t, bool now)
{
	int err;

	tld__lock();
	if (t->attached)
		return 0;
	if (__atomic_load_n(&tld__proc.dead, __ATOMIC_RELAXED))
		return t->err = tld__err(-ESHUTDOWN, "tld_fini() was called");
	err = tld_thread_join(t);
	if (!err)
		err = tld__proc_map_ready(now);
	if (err)
		return t->err = err;
	err = tld__thread_attach(t);
	if (err)
		__atomic_store_n(&tld__proc.retry_at, tld__now() + TLD_RETRY_NS, __ATOMIC_RELAXED);
	return err;
}

TLD_API int tld_thread_init(void)
{
	int err;

	if (tld_self.exited)
		return tld__err(-ESRCH, "thread %d is exiting", tld_sys_gettid());
	err = tld_thread_register(&tld_self, true);
	tld__unlock();
	return err;
}

/*
 * Registration on first use, and again at most every TLD_RETRY_NS while it
 * fails. A failure is printed when it differs from the previous one: a
 * missing map would otherwise be reported by every thread, every time.
 */
static void tld_thread_register_implicit(void)
{
	static int last_err;
	int err;

	if (__atomic_load_n(&tld__proc.dead, __ATOMIC_RELAXED))
		return;
	if (tld_self.pprev && tld__now() < __atomic_load_n(&tld__proc.retry_at, __ATOMIC_RELAXED))
		return;
	err = tld_thread_register(&tld_self, false);
	tld__unlock_report(err && __atomic_exchange_n(&last_err, err, __ATOMIC_RELAXED) != err);
}

TLD_API void *tld__get_data_slow(tld_key_t key)
{
	int saved_errno = errno;
	char *base;

	if (key.raw <= 0 || key.raw > TLD_DATA_MAX)
		return NULL;
	if (!tld_self.exited)
		tld_thread_register_implicit();
	base = __atomic_load_n(&tld__thread_base, __ATOMIC_RELAXED);
	errno = saved_errno;
	return base ? base + key.raw : NULL;
}

/* The map behind @fd is the one pinned at @path now. Called with the lock held. */
static bool tld_map_current(int fd, const char *path)
{
	int pinned = tld_bpf_obj_get(path);
	bool same;

	if (pinned < 0)
		return false;
	same = tld__map_id(pinned) == tld__map_id(fd);
	tld_sys_close(pinned);
	return same;
}

static int tld_thread_check(struct tld_thread *t)
{
	int has;

	if (!tld__proc.strict && !tld_map_current(tld__proc.map_fd, tld__proc.path))
		return tld__err(-ENOLINK, "thread %d is attached to a map that is no longer pinned at %s: tld_refresh() attaches every thread to the map there now",
				t->tid, tld__proc.path);
	has = tld_entry_has(t);
	if (has < 0)
		return has;
	if (has)
		return 0;
	tld__thread_detach(t);
	return t->err = tld__err(-ENOLINK, "thread %d's entry was removed from %s (erased, or swept by the guard): its next tld_get_data() attaches it again",
				 t->tid, tld__proc.path);
}

TLD_API int tld_thread_status(void)
{
	struct tld_thread *t = &tld_self;
	int err;

	tld__lock();
	if (__atomic_load_n(&tld__proc.dead, __ATOMIC_RELAXED))
		err = -ESHUTDOWN;
	else if (!t->pprev)
		err = -ENODATA;
	else if (!t->attached)
		err = t->err;
	else
		err = tld_thread_check(t);
	tld__unlock();
	return err;
}

/*
 * Unregister @t and give its area back. Lock held.
 *
 * An exiting thread's entry may stay until the map's tld_exit program
 * deletes it (or the kernel frees the task): its page is punched when
 * given back, so a BPF store through the entry lands in the old page,
 * which the entry pins, and the slot's next thread gets a new one. That
 * saves the withdraw, the pidfd and the delete, half of an exit. Not in
 * the compact layout, whose areas share a page, which is not punched; not
 * in strict mode, where tldd counts the thread until told (but if telling
 * fails, the entry goes with the task all the same); and not if the punch
 * fails: then the entry goes first, and an entry that may remain still
 * names the area (readers may remember it), which no other thread gets.
 */
static void tld_thread_give_back(struct tld_thread *t, bool exiting)
{
	bool whole = exiting && tld__store_area_is_page();

	/* The hot path first: nothing of the thread's may land in a punched page. */
	__atomic_store_n(t->base, NULL, __ATOMIC_RELAXED);
	if (whole && !tld__proc.strict && !tld__store_page_leave(t->page)) {
		t->attached = false;
		return;
	}
	if (!tld__thread_detach(t))
		tld__store_area_put(t->page, t->start);
	else if (whole)
		tld__store_page_leave(t->page);
}

static void tld_thread_release(struct tld_thread *t, bool exiting)
{
	bool gave = false;

	tld__lock();
	if (t->pprev) {
		tld_thread_give_back(t, exiting);
		tld_thread_unlink(t);
		pthread_setspecific(tld__proc.exit_key, NULL);
		t->page = NULL;
		gave = true;
	}
	tld__unlock();
	if (gave && exiting)
		tld__store_warm_refill();
	t->err = 0;
}

/* @t's thread exited without its destructor: forget it. Lock held. */
void tld__thread_reap(struct tld_thread *t)
{
	t->attached = false;
	tld_thread_unlink(t);
	tld__store_area_put(t->page, t->start);
	t->page = NULL;
}

TLD_API int tld_thread_fini(void)
{
	tld_thread_release(&tld_self, false);
	return 0;
}

void tld__thread_exit(void *arg)
{
	struct tld_thread *t = arg;

	tld_thread_release(t, true);
	t->exited = true;
}

/* Lock held: the child gets the forking thread's area as it is now. */
void tld__fork_prepare_threads(void)
{
	tld__store_fork_prepare(tld_self.pprev ? tld_self.page : NULL, tld_self.start);
}

/*
 * The fork child has only the forking thread, and the kernel gave it none
 * of the parent's task storage: attach that thread anew with its copy of
 * the page, at the same address (tld__store_fork_child()). Called with
 * the lock held and messages muted.
 */
void tld__fork_child_threads(void)
{
	struct tld_thread *t, *next;

	for (t = tld__proc.threads; t; t = next) {
		next = t->next;
		if (t == &tld_self)
			continue;
		tld_thread_unlink(t);
	}
	tld__proc.retry_at = 0;
	/* The parent's connection to tldd names the parent; the child makes its own. */
	if (tld__proc.broker_fd >= 0)
		tld_sys_close(tld__proc.broker_fd);
	tld__proc.broker_fd = -1;
	if (!tld_self.pprev)
		return;
	tld_self.tid = tld_sys_gettid();
	tld_self.ino = 0;
	tld_self.attached = false;
	/* On failure the page stays, and its next tld_get_data() tries again. */
	if (tld__proc.map_fd >= 0 || tld__proc.strict)
		tld__thread_attach(&tld_self);
}
