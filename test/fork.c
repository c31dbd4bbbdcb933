// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fork: the kernel gives a child no task storage, yet the child inherits
 * the parent's pointers. libtld registers the forking thread anew in the
 * child (pthread_atfork), so the child's first store through a pointer it
 * had before fork reaches BPF, from the main thread or from any other, and
 * again in a grandchild.
 *
 * The parent keeps its pages; the child gets a store of its own, at the
 * same addresses. So the parent's stores after fork still reach BPF, and
 * the child's never show up as the parent's.
 *
 * A process that made keys but registered no thread has a store already:
 * its fork children must not share it (they did: two children stored into
 * one page).
 *
 * After fork the parent and the child each register with a new cookie:
 * a child that turns against its parent cannot vouch with the cookie it
 * inherited.
 *
 * vfork+exec and posix_spawn children (no tld in the new program) have no
 * data.
 *
 * Checked to fail (make mutate): without tld_fork_child()'s re-registration
 * the child's reads give -ENODATA (61); without the new cookie in the
 * parent, its next thread's page carries the old one.
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

extern char **environ;
static struct reader_bpf *reader;
static pthread_barrier_t ready, done;
static pid_t tid_t1;

static void expect(pid_t tid, __u64 want, const char *who)
{
	struct th_result r;

	if (!TH_CHECK(th_result(reader, tid, &r), "%s (%d): BPF saw nothing", who, tid))
		return;
	TH_CHECK(r.init_err == 0 && r.head[TH_STATIC] == want, "%s (%d): err %d value %llu, want %llu",
		 who, tid, r.init_err, r.head[TH_STATIC], want);
}

static void expect_none(pid_t tid, const char *who)
{
	struct th_result r = { .init_err = 1 };

	th_mark(tid);
	th_result(reader, tid, &r);
	TH_CHECK(r.init_err == -61, "%s (%d): err %d, want -ENODATA", who, tid, r.init_err);
}

/* In a child: store through @p, obtained before fork, and be read. */
static int child_stores(__u64 *p, __u64 v, int depth)
{
	pid_t pid;
	int st;

	*p = v;
	th_mark(0);
	if (!depth)
		return 0;
	pid = fork();
	if (!pid)
		_exit(child_stores(p, v + 1, depth - 1));
	waitpid(pid, &st, 0);
	expect(pid, v + 1, "grandchild");
	return !WIFEXITED(st) || WEXITSTATUS(st);
}

static pid_t fork_store(__u64 *p, __u64 v, int depth)
{
	pid_t pid = fork();
	int st;

	if (!pid)
		_exit(child_stores(p, v, depth));
	waitpid(pid, &st, 0);
	TH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %x", st);
	expect(pid, v, "child");
	return pid;
}

static void *thread_t1(void *arg)
{
	__u64 *p = tld_get_data(static_key);

	(void)arg;
	tid_t1 = th_gettid();
	*p = 2;
	pthread_barrier_wait(&ready);
	/* Forking from a thread other than main: its pointer works in the child. */
	fork_store(p, 300, 0);
	pthread_barrier_wait(&done);
	return NULL;
}

static void spawned_children(void)
{
	char *argv[] = { "sleep", "5", NULL };
	pid_t pid;
	int st;

	pid = vfork();
	if (!pid) {
		execv("/bin/sleep", argv);
		_exit(127);
	}
	expect_none(pid, "vfork+exec child");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);

	TH_CHECK(posix_spawn(&pid, "/bin/sleep", NULL, NULL, argv, environ) == 0, "posix_spawn");
	expect_none(pid, "posix_spawn child");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static __u64 page_cookie(void *p)
{
	return *(__u64 *)((unsigned long)p & ~(TLD_PAGE_SIZE - 1ul));
}

static void *cookie_thread(void *arg)
{
	*(__u64 *)arg = page_cookie(tld_get_data(static_key));
	return NULL;
}

static void cookies(__u64 *p)
{
	__u64 before = page_cookie(p), child = 0, after = 0;
	pthread_t t;
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		th_fatal("pipe: %m");
	pid = fork();
	if (!pid) {
		child = page_cookie(p);
		_exit(write(fds[1], &child, sizeof(child)) != sizeof(child));
	}
	if (read(fds[0], &child, sizeof(child)) != sizeof(child))
		th_fatal("the child said nothing");
	waitpid(pid, NULL, 0);
	pthread_create(&t, NULL, cookie_thread, &after);
	pthread_join(t, NULL);
	TH_CHECK(after != before && child != before && child != after,
		 "cookies: parent before fork %#llx, after %#llx, child %#llx", before, after, child);
}

/*
 * keys-only: a process that made keys (the store with them) but never
 * registered a thread forks two children; each registers and stores its
 * own value, says "tid\n" and waits for its stdin to close.
 */
static int keys_only_main(void)
{
	char line[16], c;
	int i;

	for (i = 0; i < 2; i++) {
		if (fork())
			continue;
		*(__u64 *)tld_get_data(static_key) = 500 + i;
		th_mark(0);
		snprintf(line, sizeof(line), "%d\n", th_gettid());
		if (write(1, line, strlen(line)) < 0)
			_exit(1);
		_exit(read(0, &c, 1) < 0);
	}
	return 0;
}

/* Two fork children of a process that never registered have stores of their own. */
static void keys_only(void)
{
	struct th_proc p;
	FILE *out;
	int tid[2], i;

	th_spawn(&p, 0, (const char *const[]){ "fork", "keys-only", NULL });
	out = fdopen(p.out, "r");
	if (fscanf(out, "%d %d", &tid[0], &tid[1]) != 2)
		th_fatal("the keys-only children did not start");
	/* Either may have stored first: each must read its own. */
	for (i = 0; i < 2; i++) {
		struct th_result r;
		int k = 0;

		if (TH_CHECK(th_result(reader, tid[i], &r), "keys-only child %d: BPF saw nothing", tid[i]))
			k = r.head[TH_STATIC];
		TH_CHECK(k == 500 || k == 501, "keys-only child %d read %d", tid[i], k);
		tid[i] = k;
	}
	TH_CHECK(tid[0] != tid[1], "the two children of a process that never registered share a page (%d)",
		 tid[0]);
	close(p.in);
	fclose(out);
	waitpid(p.pid, NULL, 0);
}

int main(int argc, char **argv)
{
	struct th_map map;
	pthread_t t1;
	__u64 *p;

	if (argc == 2 && !strcmp(argv[1], "keys-only"))
		return keys_only_main();
	th_map_create(&map, NULL);
	reader = th_reader_load();
	keys_only();
	pthread_barrier_init(&ready, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	p = tld_get_data(static_key);
	*p = 1;
	pthread_create(&t1, NULL, thread_t1, NULL);
	pthread_barrier_wait(&ready);

	fork_store(p, 100, 1);
	/* The parent's pointers still reach BPF, with the parent's values. */
	*p = 3;
	th_mark(0);
	expect(th_gettid(), 3, "parent");
	th_mark(tid_t1);
	expect(tid_t1, 2, "parent's other thread");
	pthread_barrier_wait(&done);
	pthread_join(t1, NULL);

	spawned_children();
	cookies(p);
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
