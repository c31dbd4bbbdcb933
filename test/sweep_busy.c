// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A sweep the kernel refuses is queued and retried by the guard's next run
 * on any CPU, not dropped.
 *
 * Before 7.0 the kernel keeps a per-CPU busy count around task-storage
 * operations, and bpf_task_storage_delete() fails with -EBUSY on a CPU
 * where one is in progress. The test forces that: on CPU 0 a holder thread
 * updates a task-storage map of its own without pause, and a victim sleeps
 * SLEEP_NS at a time, so that the timer interrupt waking it often lands
 * inside an update. Before each sleep the test plants an entry nobody
 * vouched for on the victim; the guard's sweep at that wakeup must remove
 * it. The loop runs until the guard has counted BUSY_WANTED refused
 * sweeps. Then:
 * - every queued refusal was completed by a retry (retried equals busy,
 *   none left to the task's next wakeup), once the test's own sleeps have
 *   given the guard runs to retry in;
 * - the victim found, once awake, a plant made before it woke at most as
 *   often as a sweep was refused: a sighting needs both its sweeps, at the
 *   wakeup and at the switch-in, refused, and then the retry completes it.
 *   On this kernel (PREEMPT_NONE) that is rare (seen once, in an ASan run
 *   of make test; never in 15 runs after, 1,600 cycles): a map syscall is
 *   seldom switched out inside the busy count. Where it is preempted
 *   (preempt=full) it is common.
 *
 * Checked to fail: with queue_retry() not queueing (the sweep's -EBUSY
 * ignored, as before), retried stays 0.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <tld/abi.h>

#include "harness.h"
#include "../bpf/tld_guard.h"

#define SLEEP_NS	1000000
#define BUSY_WANTED	20
#define MAX_CYCLES	60000
#define DRAIN_SLEEPS	1000

static struct th_map map;
static int map_fd;

struct victim {
	int pidfd;
	__u64 cycle;		/* the cycle it sleeps in; the test bumps it to plant */
	__u64 slept;		/* CLOCK_MONOTONIC ns when it went to sleep */
	__u64 done;		/* the last cycle it woke from */
	bool saw_plant;		/* it found an entry on itself when it woke */
	volatile bool stop;
};

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		th_fatal("sched_setaffinity: %m");
}

static void *holder(void *arg)
{
	volatile bool *stop = arg;
	int fd, self = th_thread_pidfd(th_gettid());
	__u64 v = 0;

	fd = th_task_storage_map("holder", (const int[]){ 8 }, 1, 8);
	if (fd < 0 || self < 0)
		th_fatal("holder: task-storage map %d, pidfd %d", fd, self);
	pin_cpu0();
	while (!*stop)
		bpf_map_update_elem(fd, &self, &v, BPF_ANY);
	close(fd);
	close(self);
	return NULL;
}

/* Sleep each cycle the test asks for; on waking, look for an entry on itself. */
static void *victim(void *arg)
{
	struct victim *v = arg;
	struct tld_map_value val;
	__u64 cycle;

	pin_cpu0();
	__atomic_store_n(&v->pidfd, th_thread_pidfd(th_gettid()),
			 __ATOMIC_RELEASE);
	while (!v->stop) {
		cycle = __atomic_load_n(&v->cycle, __ATOMIC_ACQUIRE);
		if (cycle == v->done) {
			sched_yield();
			continue;
		}
		__atomic_store_n(&v->slept, th_now_ns(), __ATOMIC_RELEASE);
		nanosleep(&(struct timespec){ .tv_nsec = SLEEP_NS }, NULL);
		v->saw_plant = !bpf_map_lookup_elem(map_fd, &v->pidfd, &val);
		__atomic_store_n(&v->done, cycle, __ATOMIC_RELEASE);
	}
	return NULL;
}

static struct tld_guard_state guard_state(void)
{
	struct tld_guard_state st;

	th_guard_state(&map, &st);
	return st;
}

static void forge(struct tld_map_value *val)
{
	void *pages = mmap(NULL, 2 * TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (pages == MAP_FAILED)
		th_fatal("mmap: %m");
	*val = (struct tld_map_value){ .meta = pages, .data = pages + TLD_PAGE_SIZE,
				       .start = TLD_DATA_HDR };
}

/*
 * One cycle: wait for the victim to be asleep, plant, wake it by its timer.
 * Whether the plant surely landed before the victim could wake.
 */
static bool cycle(struct victim *v, __u64 n, struct tld_map_value *val)
{
	__u64 slept;
	bool valid;

	__atomic_store_n(&v->slept, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&v->cycle, n, __ATOMIC_RELEASE);
	while (!(slept = __atomic_load_n(&v->slept, __ATOMIC_ACQUIRE)))
		;
	if (bpf_map_update_elem(map_fd, &v->pidfd, val, BPF_ANY))
		th_fatal("plant: %m");
	valid = th_now_ns() < slept + SLEEP_NS;
	while (__atomic_load_n(&v->done, __ATOMIC_ACQUIRE) != n)
		;
	return valid;
}

static bool busy_count_exists(void)
{
	struct utsname u;

	return !uname(&u) && atoi(u.release) < 7;
}

int main(void)
{
	struct tld_guard_state before, after;
	struct victim v = { 0 };
	volatile bool stop = false;
	unsigned int valid = 0, seen = 0;
	__u64 cycles = 0;
	struct tld_map_value val;
	pthread_t h, t;
	__u64 n;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		th_skip("one CPU: the test waits for wakeups on CPU 0 from another");
	if (!busy_count_exists())
		th_skip("this kernel's task storage has no per-CPU busy count (gone by 7.0): no -EBUSY to force");
	th_map_create(&map, "");
	map_fd = bpf_obj_get(map.path);
	if (map_fd < 0)
		th_fatal("open %s: %m", map.path);
	forge(&val);
	before = guard_state();
	pthread_create(&h, NULL, holder, (void *)&stop);
	pthread_create(&t, NULL, victim, &v);
	while (!__atomic_load_n(&v.pidfd, __ATOMIC_ACQUIRE))
		;
	if (v.pidfd < 0)
		th_fatal("pidfd_open: %m");
	for (n = 1; n <= MAX_CYCLES && guard_state().busy - before.busy < BUSY_WANTED; n++) {
		cycles = n;
		if (!cycle(&v, n, &val))
			continue;
		valid++;
		seen += v.saw_plant;
	}
	v.stop = stop = true;
	pthread_join(t, NULL);
	pthread_join(h, NULL);
	/* Each wakeup of this thread is a guard run, which retries the queue. */
	for (n = 0; n < DRAIN_SLEEPS; n++) {
		after = guard_state();
		if (after.retried - before.retried + after.unqueued - before.unqueued >=
		    after.busy - before.busy)
			break;
		usleep(1000);
	}
	after = guard_state();
	printf("%llu cycles (%u with the plant surely first): busy %llu, retried %llu, unqueued %llu, swept %llu\n",
	       (unsigned long long)cycles, valid, after.busy - before.busy,
	       after.retried - before.retried, after.unqueued - before.unqueued,
	       after.swept - before.swept);
	TH_CHECK(after.busy - before.busy >= BUSY_WANTED,
		 "%llu sweeps refused in %d cycles: the event was not forced",
		 after.busy - before.busy, MAX_CYCLES);
	TH_CHECK(after.retried - before.retried == after.busy - before.busy &&
		 after.unqueued == before.unqueued,
		 "refused sweeps %llu, completed by a retry %llu, left to the next wakeup %llu",
		 after.busy - before.busy, after.retried - before.retried,
		 after.unqueued - before.unqueued);
	TH_CHECK(seen <= after.busy - before.busy,
		 "the victim woke to a plant made before it slept %u times in %u, more than the %llu refused sweeps",
		 seen, valid, after.busy - before.busy);
	close(map_fd);
	th_map_remove(&map);
	th_done();
}
