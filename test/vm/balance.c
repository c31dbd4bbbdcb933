// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Inside Debian's 7.3 kernel on two CPUs (run.sh boots it): the balancer
 * (examples/balance), a central agent, places tasks through the agent
 * store, and scx_tld applies each placement at the task's next scheduling
 * event.
 *
 * - A thread spinning with no system call is placed on CPU 1, then 0, then
 *   1, by plain stores into its record: each time the scheduler
 *   acknowledges the placement and the thread finds itself on that CPU.
 * - Four hogs placed on CPU 0 share it: together they get at most one CPU.
 * - The balancer's first pass only learns each task's runnable time; the
 *   second sees each hog's load as a whole CPU (it is always runnable) and
 *   moves two of them to CPU 1; later passes leave the hogs where they
 *   are. Balanced, the hogs get close to two CPUs.
 *
 * Checked to fail: with placed_cpu() in scx_tld.bpf.c returning -1 (no
 * placement applied), no placement is acknowledged; with select_cpu and
 * enqueue ignoring the placement but acknowledging it, the four hogs
 * placed on CPU 0 get two CPUs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <tld/agent.h>

#include "harness.h"
#include "balance.h"
#include "scx.h"

#define NHOGS		4

struct spinner {
	pthread_t thread;
	volatile pid_t tid;
	volatile int cpu;	/* where it last found itself */
	volatile bool stop;
	struct bal_slot slot;
};

static struct tld_agent *agent;
static struct balancer bal;
static char dir[160];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* sched_getcpu() reads the rseq area or the vDSO: no system call. */
static void *spin(void *arg)
{
	struct spinner *s = arg;

	s->tid = th_gettid();
	while (!s->stop)
		s->cpu = sched_getcpu();
	return NULL;
}

/* Start @s and find its record, made by the store's task_newtask hook. */
static void start(struct spinner *s)
{
	s->cpu = -1;
	pthread_create(&s->thread, NULL, spin, s);
	while (!s->tid)
		usleep(1000);
	s->slot.task = th_agent_record(agent, s->tid, &s->slot.ref);
}

static void finish(struct spinner *s)
{
	s->stop = true;
	pthread_join(s->thread, NULL);
}

/* Whether @s acknowledged placement @gen and ran on @cpu, within 10 s. */
static bool settled(struct spinner *s, __u32 gen, int cpu)
{
	double end = now() + 10;

	while (now() < end) {
		if (__atomic_load_n(&s->slot.task->applied, __ATOMIC_ACQUIRE) == gen &&
		    s->cpu == cpu && s->slot.task->sched.cpu == cpu)
			return true;
		usleep(1000);
	}
	return false;
}

static void check_next_event(void)
{
	static const int cpus[] = { 1, 0, 1 };
	struct spinner s = { 0 };
	unsigned int i;
	__u32 gen;

	double t;

	start(&s);
	for (i = 0; i < sizeof(cpus) / sizeof(cpus[0]); i++) {
		t = now();
		gen = bal_place(&bal, &s.slot, cpus[i]);
		TH_CHECK(gen && settled(&s, gen, cpus[i]),
			 "placed on CPU %d: acknowledged %u of %u, found itself on %d, ran on %d",
			 cpus[i], s.slot.task->applied, gen, s.cpu, s.slot.task->sched.cpu);
		printf("spinner placed on CPU %d: there after %.1f ms\n", cpus[i], (now() - t) * 1e3);
	}
	finish(&s);
}

/* The CPU time @n hogs get over 0.5 s, in CPUs. */
static double cpus_used(struct spinner *h, int n)
{
	struct timespec pause = { 0, 500000000 }, c;
	double t0 = now(), sum = 0, start[NHOGS];
	clockid_t id;
	int i;

	for (i = 0; i < n; i++) {
		pthread_getcpuclockid(h[i].thread, &id);
		clock_gettime(id, &c);
		start[i] = c.tv_sec + c.tv_nsec / 1e9;
	}
	nanosleep(&pause, NULL);
	for (i = 0; i < n; i++) {
		pthread_getcpuclockid(h[i].thread, &id);
		clock_gettime(id, &c);
		sum += c.tv_sec + c.tv_nsec / 1e9 - start[i];
	}
	return sum / (now() - t0);
}

/* How many of @h are placed on @cpu. */
static int placed_on(struct spinner *h, int n, int cpu)
{
	int i, count = 0;

	for (i = 0; i < n; i++)
		count += BAL_PLACE_DOM(h[i].slot.task->placement) == cpu;
	return count;
}

static bool all_settled(struct spinner *h, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		__u64 v = h[i].slot.task->placement;

		if (!settled(&h[i], BAL_PLACE_GEN(v), BAL_PLACE_DOM(v)))
			return false;
	}
	return true;
}

/* The hogs' placements, one bit per hog on CPU 1. */
static unsigned int layout(struct spinner *h, int n)
{
	unsigned int bits = 0;
	int i;

	for (i = 0; i < n; i++)
		bits |= (BAL_PLACE_DOM(h[i].slot.task->placement) == 1) << i;
	return bits;
}

/*
 * Other tasks count too (this thread's polling is a load of a few
 * percent, and the balancer may move it), so the check is on the hogs.
 */
static void check_balance(void)
{
	struct timespec pause = { 0, 200000000 };
	struct spinner h[NHOGS] = { 0 };
	unsigned int balanced = 0;
	struct bal_pass p;
	double one, two;
	int i;

	for (i = 0; i < NHOGS; i++) {
		start(&h[i]);
		bal_place(&bal, &h[i].slot, 0);
	}
	TH_CHECK(all_settled(h, NHOGS), "the hogs did not all settle on CPU 0");
	one = cpus_used(h, NHOGS);
	TH_CHECK(one < 1.05, "%d hogs placed on CPU 0 got %.2f CPUs", NHOGS, one);

	/* The first pass sees each task for the first time: no load yet. */
	for (i = 0; i < 4; i++) {
		TH_CHECK(!bal_run(&bal, &p), "balancer pass %d failed", i);
		printf("pass %d: %d tasks, %d busy, moved %d; load cpu0 %u cpu1 %u; hogs on CPU 1: %d\n",
		       i, p.tasks, p.busy, p.moved, p.dom_load[0], p.dom_load[1],
		       placed_on(h, NHOGS, 1));
		if (i == 0)
			TH_CHECK(layout(h, NHOGS) == 0, "a hog moved before the balancer knew its load");
		else if (i == 1)
			balanced = layout(h, NHOGS);
		else
			TH_CHECK(layout(h, NHOGS) == balanced, "pass %d moved a hog again", i);
		TH_CHECK(p.busy >= (i ? NHOGS : 0), "pass %d saw %d busy tasks", i, p.busy);
		TH_CHECK(all_settled(h, NHOGS), "pass %d: placements not applied", i);
		nanosleep(&pause, NULL);
	}
	TH_CHECK(placed_on(h, NHOGS, 0) == NHOGS / 2 && placed_on(h, NHOGS, 1) == NHOGS / 2,
		 "%d hogs on CPU 0, %d on CPU 1", placed_on(h, NHOGS, 0), placed_on(h, NHOGS, 1));
	two = cpus_used(h, NHOGS);
	printf("%d hogs: %.2f CPUs on CPU 0, %.2f once balanced\n", NHOGS, one, two);
	TH_CHECK(two > 1.6, "balanced, the hogs got only %.2f CPUs", two);
	for (i = 0; i < NHOGS; i++)
		finish(&h[i]);
}

int main(void)
{
	struct scx_tld_bpf *s;
	struct bpf_link *link;
	struct th_map map;

	if (sysconf(_SC_NPROCESSORS_ONLN) != 2)
		th_skip("needs two CPUs, has %ld", sysconf(_SC_NPROCESSORS_ONLN));
	th_map_create(&map, NULL);
	snprintf(dir, sizeof(dir), "%s/agent", map.dir);
	agent = th_agent_create(dir, "");
	if (bal_init(&bal, agent, 2))
		th_fatal("the store's task records cannot hold a struct bal_task");
	s = scx_load(dir, &link);

	check_next_event();
	check_balance();
	printf("scx_tld: %llu enqueues placed, %llu direct\n",
	       (unsigned long long)s->bss->stats.placed, (unsigned long long)s->bss->stats.direct);

	scx_unload(s, link);
	bal_fini(&bal);
	th_agent_remove(agent, dir);
	th_map_remove(&map);
	th_done();
}
