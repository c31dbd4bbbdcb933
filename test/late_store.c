// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A BPF store into an exited thread's entry never reaches the thread that
 * gets its page. An exiting thread gives its page back and leaves its
 * entry to the kernel: libtld punches the page out of its store first, so
 * the entry pins the old page and the next thread faults in a new one at
 * the same address. Where the punch fails, the entry goes first.
 *
 * Thread A stores 1 and exits; a destructor of the test's, which runs
 * after libtld's, holds A there. Threads then register one by one, each
 * keeping its page (libtld hands out pages populated ahead first), until
 * one, B, gets A's page (same address). B finds it zeroed and stores 7.
 * Only then does A, still held, have BPF store 99 through its entry. B
 * must read 7, and BPF 7 from B; and from A 99, its entry still there, or,
 * where the punch failed, nothing. Once both are gone the map holds as
 * many entries as before. Each case in a child process of its own:
 *
 *	plain	 the entry stays
 *	mlocked	 mlockall(), under which madvise(MADV_REMOVE) fails but a
 *		 punch through the file works: the entry stays
 *	denied	 fallocate() and madvise(MADV_REMOVE) refused (seccomp): the
 *		 punch fails, the entry goes and the page is zeroed in place
 *
 * Checked to fail (make mutate): with the page taken as punched when it
 * is not, "denied" reads 99 in B; with MADV_REMOVE as the only punch, so
 * does "mlocked" (by hand).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "harness.h"
#include "reader.skel.h"

#define CANDIDATES	64

enum scenario { PLAIN, MLOCKED, DENIED };

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static const char *const names[] = { "plain", "mlocked", "denied" };
static enum scenario scenario;
static struct reader_bpf *reader;
static pthread_key_t hold_key;
static int a_released[2], b_stored[2], a_stored[2], b_read[2], tried[2], done[2];
static __u64 *a_page, *b_page;
static pid_t a_tid;

static void wait_on(int *pipefd)
{
	char c;

	if (read(pipefd[0], &c, 1) != 1)
		th_fatal("read: %m");
}

static void post(int *pipefd)
{
	if (write(pipefd[1], "x", 1) != 1)
		th_fatal("write: %m");
}

/* A's exit, after libtld's destructor: its page went back. */
static void hold(void *arg)
{
	(void)arg;
	if (tld_get_data(static_key))
		th_fatal("the test's destructor ran before libtld's: nothing to test");
	post(a_released);
	wait_on(b_stored);
	th_store(99);
	post(a_stored);
	wait_on(b_read);
}

static void *thread_a(void *arg)
{
	a_page = tld_get_data(static_key);
	if (!a_page)
		th_fatal("thread A has no data");
	*a_page = 1;
	a_tid = th_gettid();
	/* Created after libtld's key, so its destructor runs after libtld's. */
	if (pthread_key_create(&hold_key, hold) || pthread_setspecific(hold_key, arg))
		th_fatal("pthread key: %m");
	return NULL;
}

static void check_reads(void)
{
	struct th_result r = { 0 }, ra = { 0 };

	TH_CHECK(*b_page == 7, "%s: thread B reads %llu: A's late BPF store reached it",
		 names[scenario], *b_page);
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r) && r.head[TH_STATIC] == 7,
		 "%s: BPF read %llu from thread B", names[scenario], r.head[TH_STATIC]);
	th_mark(a_tid);
	if (!TH_CHECK(th_result(reader, a_tid, &ra), "%s: BPF saw nothing for A", names[scenario]))
		return;
	if (scenario == DENIED)
		TH_CHECK(ra.init_err, "%s: A's entry is still there, on a page not punched",
			 names[scenario]);
	else
		TH_CHECK(!ra.init_err && ra.head[TH_STATIC] == 99,
			 "%s: BPF read %llu from A's entry (error %d), not its late store",
			 names[scenario], ra.head[TH_STATIC], ra.init_err);
}

static void *thread_b(void *arg)
{
	__u64 *p = tld_get_data(static_key);
	char c;

	if (!p)
		th_fatal("a thread has no data");
	if (p != a_page) {
		/* Not A's page: keep it, so that the next thread gets another. */
		post(tried);
		if (read(done[0], &c, 1) < 0)
			th_fatal("read: %m");
		return arg;
	}
	b_page = p;
	post(tried);
	TH_CHECK(*b_page == 0, "%s: thread B got A's page holding %llu", names[scenario], *b_page);
	*b_page = 7;
	post(b_stored);
	wait_on(a_stored);
	check_reads();
	post(b_read);
	return arg;
}

/* fallocate(), and madvise(MADV_REMOVE) (the low half of its third argument), fail. */
static void deny_punch(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fallocate, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_REMOVE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		th_fatal("seccomp: %m");
}

static void run(struct th_map *map)
{
	pthread_t a, b[CANDIDATES];
	int base, i, n;

	if (pipe(a_released) || pipe(b_stored) || pipe(a_stored) || pipe(b_read) ||
	    pipe(tried) || pipe(done))
		th_fatal("pipe: %m");
	if (scenario == MLOCKED && mlockall(MCL_CURRENT | MCL_FUTURE))
		th_fatal("mlockall: %m");
	if (scenario == DENIED)
		deny_punch();
	reader = th_reader_load();
	if (!tld_get_data(static_key))
		th_fatal("the main thread has no data");
	base = th_map_entries(map);
	pthread_create(&a, NULL, thread_a, reader);
	wait_on(a_released);
	for (n = 0; n < CANDIDATES && !b_page; n++) {
		pthread_create(&b[n], NULL, thread_b, NULL);
		wait_on(tried);
	}
	if (!b_page)
		th_fatal("%s: none of %d threads got A's page: nothing was tested", names[scenario],
			 CANDIDATES);
	pthread_join(b[n - 1], NULL);
	pthread_join(a, NULL);
	close(done[1]);
	for (i = 0; i < n - 1; i++)
		pthread_join(b[i], NULL);
	TH_CHECK(reader->bss->stored == (scenario != DENIED),
		 "%s: %llu BPF stores found A's entry", names[scenario], reader->bss->stored);
	th_map_entries_wait(map, base);
	th_reader_destroy(reader);
}

int main(void)
{
	struct th_map map;
	int st;
	pid_t pid;

	th_map_create(&map, NULL);
	for (scenario = PLAIN; scenario <= DENIED; scenario++) {
		pid = fork();
		if (pid < 0)
			th_fatal("fork: %m");
		if (!pid) {
			run(&map);
			th_done();
		}
		TH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
			 "case %s failed", names[scenario]);
	}
	th_map_remove(&map);
	th_done();
}
