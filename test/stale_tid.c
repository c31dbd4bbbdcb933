// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread that exits without its destructor (a raw exit(2)) stays on
 * libtld's list. When another process's thread takes its tid, the
 * victim's tld_refresh() must not attach the dead thread's page to it, nor
 * remove that thread's entry: it forgets the dead thread instead.
 *
 * The victim (uid 60001) registers its main thread and a thread holding
 * 4242 that then exits raw; an attacker (uid 65534) makes a thread that
 * takes the dead thread's tid (ns_last_pid) and registers its own value,
 * 666; the victim calls tld_refresh(). The attacker's thread must still
 * read 666 through an unchecked reader, never 4242, and tld_refresh()
 * counts the main thread alone.
 *
 * Checked to fail: without the pidfs inode check in tld_thread_pidfd(),
 * refresh attaches the victim's page to the attacker's thread (the
 * unchecked reader reads 4242) and counts 2.
 */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tld/loader.h>

#include "harness.h"
#include "reader_unvouched.skel.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static void say(const char *what, long v)
{
	printf("%s %ld\n", what, v);
	fflush(stdout);
}

static pid_t dead_tid;

static void *raw_exit(void *arg)
{
	__u64 *v = tld_get_data(static_key);

	if (v)
		*v = 4242;
	__atomic_store_n(&dead_tid, th_gettid(), __ATOMIC_RELEASE);
	syscall(SYS_exit, 0);
	return arg;
}

/*
 * victim: a thread registers and exits raw; once the kernel has freed its
 * tid, say it; on a byte, tld_refresh().
 */
static int victim_main(void)
{
	char path[64], c;
	pthread_t t;
	pid_t tid;

	*(__u64 *)tld_get_data(static_key) = 1;
	pthread_create(&t, NULL, raw_exit, NULL);
	while (!(tid = __atomic_load_n(&dead_tid, __ATOMIC_ACQUIRE)))
		sched_yield();
	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	while (!access(path, F_OK))
		sched_yield();
	say("dead", tid);
	if (read(0, &c, 1) != 1)
		return 2;
	say("refresh", tld_refresh());
	return read(0, &c, 1) < 0;
}

static void *registered(void *arg)
{
	*(__u64 *)tld_get_data(static_key) = 666;
	say("tid", th_gettid());
	pause();
	return arg;
}

/* attacker: on a byte, a thread that registers 666. */
static int attacker_main(void)
{
	pthread_t t;
	char c;

	if (read(0, &c, 1) != 1)
		return 2;
	pthread_create(&t, NULL, registered, NULL);
	return read(0, &c, 1) < 0;
}

struct proc {
	struct th_proc p;
	FILE *out;
};

static void start(struct proc *p, uid_t uid, const char *role)
{
	th_spawn(&p->p, uid, (const char *const[]){ "stale_tid", role, NULL });
	p->out = fdopen(p->p.out, "r");
}

static long expect_line(struct proc *p, const char *what)
{
	char word[16];
	long v;

	if (fscanf(p->out, "%15s %ld", word, &v) != 2 || strcmp(word, what))
		th_fatal("wanted '%s N' from process %d", what, p->p.pid);
	return v;
}

static void poke(struct proc *p)
{
	if (write(p->p.in, "g", 1) != 1)
		th_fatal("process %d died", p->p.pid);
}

static void stop(struct proc *p)
{
	close(p->p.in);
	fclose(p->out);
	kill(p->p.pid, SIGKILL);
	waitpid(p->p.pid, NULL, 0);
}

static void set_last_pid(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");

	if (!f || fprintf(f, "%d", pid) < 0 || fclose(f))
		th_fatal("ns_last_pid: %m");
}

/* An attacker whose registered thread has the victim's dead thread's tid. */
static bool take_tid(struct proc *a, pid_t dead)
{
	start(a, 65534, "attacker");
	set_last_pid(dead - 1);
	poke(a);
	if (expect_line(a, "tid") == dead)
		return true;
	stop(a);
	return false;
}

int main(int argc, char **argv)
{
	struct reader_unvouched_bpf *unchecked;
	struct th_result r = { 0 };
	struct proc v, a;
	struct th_map map;
	__u32 key;
	pid_t dead;
	int tries;

	if (argc == 2 && !strcmp(argv[1], "victim"))
		return victim_main();
	if (argc == 2 && !strcmp(argv[1], "attacker"))
		return attacker_main();

	th_map_create(&map, NULL);
	unchecked = reader_unvouched_bpf__open();
	if (!unchecked || tld_loader_load_skeleton(unchecked->skeleton, NULL))
		th_fatal("load the unchecked reader");
	th_ack_watch(unchecked->bss->th_acks);

	start(&v, 60001, "victim");
	dead = expect_line(&v, "dead");
	/* Another task may take the free tid first: then set it up again. */
	for (tries = 0; tries < 20 && !take_tid(&a, dead); tries++)
		;
	if (tries == 20)
		th_fatal("no attacker thread got tid %d", dead);
	poke(&v);
	TH_CHECK(expect_line(&v, "refresh") == 1,
		 "tld_refresh() should attach the main thread alone");
	key = dead;
	th_mark(dead);
	bpf_map__lookup_elem(unchecked->maps.results, &key, sizeof(key), &r, sizeof(r), 0);
	TH_CHECK(!r.init_err && r.head[TH_STATIC] == 666,
		 "the attacker's thread %d: err %d value %llu; want its own 666, never the victim's 4242",
		 dead, r.init_err, r.head[TH_STATIC]);
	stop(&a);
	stop(&v);

	th_ack_unwatch(unchecked->bss->th_acks);
	reader_unvouched_bpf__destroy(unchecked);
	th_map_remove(&map);
	th_done();
}
