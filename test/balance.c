// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The balancer (examples/balance) on this kernel, which has no sched_ext:
 * its planner alone, then its tracepoint accounting and its agent passes
 * against real threads. test/vm/balance.c runs it under scx_tld.
 *
 * - The planner moves hogs from the busiest domain to the idlest until
 *   even, leaves pinned tasks and near-even domains alone, and ignores
 *   domains it does not have.
 * - BPF's run time for a sleeping thread is the kernel's, to the
 *   nanosecond: the thread's CPU clock.
 * - An agent pass sees a thread that never sleeps as exactly one CPU of
 *   load and a thread asleep throughout as none.
 * - A placement written while its thread sleeps is acknowledged by BPF at
 *   the thread's next switch-in, not before; a domain out of range never.
 *
 * Checked to fail: with bal_quiescent() not closing the spell, the sleeper
 * has a whole CPU of load; with bal_stopping() storing the run time before
 * the kernel's (prev->se.prev_sum_exec_runtime), the run times differ;
 * with bal_placement() skipping the domain check, the out-of-range
 * placement is acknowledged.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tld/agent.h>
#include <tld/loader.h>

#include "harness.h"
#include "balance.h"
#include "balance_trace.skel.h"

#define ITEM(l, d, m)	((struct bal_item){ .load = (l), .dom = (d), .movable = (m) })

static struct tld_agent *agent;
static struct balancer bal;
static char dir[160];

/* ---- the planner ---------------------------------------------------- */

static int on(const struct bal_item *it, int n, int dom)
{
	int i, count = 0;

	for (i = 0; i < n; i++)
		count += it[i].dom == dom;
	return count;
}

static void check_plan(void)
{
	struct bal_item hogs[6], near[3], pinned[3], odd[4];
	int i, moves;

	for (i = 0; i < 4; i++)
		hogs[i] = ITEM(BAL_ONE, 0, true);
	moves = bal_plan(hogs, 4, 2, 8);
	TH_CHECK(moves == 2 && on(hogs, 4, 0) == 2 && on(hogs, 4, 1) == 2,
		 "4 hogs on 2 domains: %d moves, %d and %d", moves, on(hogs, 4, 0), on(hogs, 4, 1));
	TH_CHECK(bal_plan(hogs, 4, 2, 8) == 0, "an even plan moved again");

	for (i = 0; i < 6; i++)
		hogs[i] = ITEM(BAL_ONE, 0, true);
	moves = bal_plan(hogs, 6, 3, 8);
	TH_CHECK(moves == 4 && on(hogs, 6, 0) == 2 && on(hogs, 6, 1) == 2 && on(hogs, 6, 2) == 2,
		 "6 hogs on 3 domains: %d moves, %d %d %d", moves, on(hogs, 6, 0), on(hogs, 6, 1),
		 on(hogs, 6, 2));

	/* Moving the half-CPU task would only swap which domain is busier. */
	near[0] = ITEM(BAL_ONE, 0, true);
	near[1] = ITEM(BAL_ONE / 2, 0, true);
	near[2] = ITEM(BAL_ONE, 1, true);
	TH_CHECK(bal_plan(near, 3, 2, 8) == 0, "near-even domains traded a task");

	pinned[0] = ITEM(BAL_ONE, 0, false);
	pinned[1] = ITEM(BAL_ONE, 0, false);
	pinned[2] = ITEM(BAL_ONE, 0, true);
	moves = bal_plan(pinned, 3, 2, 8);
	TH_CHECK(moves == 1 && pinned[0].dom == 0 && pinned[1].dom == 0 && pinned[2].dom == 1,
		 "pinned tasks: %d moves, domains %d %d %d", moves, pinned[0].dom, pinned[1].dom,
		 pinned[2].dom);

	odd[0] = ITEM(BAL_ONE, -1, true);
	odd[1] = ITEM(BAL_ONE, 99, true);
	odd[2] = ITEM(BAL_ONE, 0, true);
	odd[3] = ITEM(BAL_ONE, 0, true);
	moves = bal_plan(odd, 4, 2, 8);
	TH_CHECK(moves == 1 && odd[0].dom == -1 && odd[1].dom == 99 && !odd[0].moved &&
		 !odd[1].moved, "unknown domains: %d moves, %d %d", moves, odd[0].dom, odd[1].dom);
	TH_CHECK(bal_plan(odd, 4, 0, 8) == -EINVAL && bal_plan(odd, 4, BAL_MAX_DOMS + 1, 8) == -EINVAL,
		 "bad domain counts accepted");
}

/* ---- real threads ---------------------------------------------------- */

struct worker {
	pthread_t thread;
	volatile pid_t tid;
	volatile int rounds;	/* times it woke */
	int pipe[2];		/* it sleeps reading [0] */
	bool sleeps;
	struct bal_slot slot;
};

static volatile bool stop_hog;

static void spin_ms(int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char c;

	w->tid = th_gettid();
	if (!w->sleeps) {
		while (!stop_hog)
			;
		return NULL;
	}
	do {
		spin_ms(20);
		w->rounds++;
	} while (read(w->pipe[0], &c, 1) == 1 && c);
	return NULL;
}

/* Start @w and find its record, made at task_newtask. */
static void start(struct worker *w, bool sleeps)
{
	w->sleeps = sleeps;
	if (pipe(w->pipe))
		th_fatal("pipe: %m");
	pthread_create(&w->thread, NULL, work, w);
	while (!w->tid)
		usleep(1000);
	w->slot.task = th_agent_record(agent, w->tid, &w->slot.ref);
}

static void finish(struct worker *w)
{
	char c = 0;

	stop_hog = true;
	if (w->sleeps && write(w->pipe[1], &c, 1) != 1)
		th_fatal("write: %m");
	pthread_join(w->thread, NULL);
	close(w->pipe[0]);
	close(w->pipe[1]);
}

/* What BPF wrote of @w, once @w is asleep: its spell closed. */
static bool asleep(struct worker *w, struct bal_sched *sc)
{
	int i;

	for (i = 0; i < 5000; i++) {
		if (!tld_agent_read_seq(agent, &w->slot.ref, 0, sc, sizeof(*sc)) && !sc->runnable_at)
			return true;
		usleep(1000);
	}
	return false;
}

/* Wake @w once and wait until it is asleep again. */
static void poke(struct worker *w)
{
	int rounds = w->rounds;
	struct bal_sched sc;
	char c = 1;

	if (write(w->pipe[1], &c, 1) != 1)
		th_fatal("write: %m");
	while (w->rounds == rounds)
		usleep(1000);
	TH_CHECK(asleep(w, &sc), "thread %d never went back to sleep", w->tid);
}

static void check_runtime(struct worker *w)
{
	struct bal_sched sc;
	struct timespec ts;
	clockid_t id;
	__u64 clock;

	if (!TH_CHECK(asleep(w, &sc), "thread %d never seen asleep", w->tid))
		return;
	pthread_getcpuclockid(w->thread, &id);
	clock_gettime(id, &ts);
	clock = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	TH_CHECK(sc.runtime_ns == clock && clock >= 20000000,
		 "BPF says thread %d ran %llu ns, its CPU clock %llu", w->tid,
		 (unsigned long long)sc.runtime_ns, (unsigned long long)clock);
}

/* The load the last pass gave @w's task; -1 if it did not take it. */
static long load_of(const struct worker *w)
{
	int i;

	for (i = 0; i < bal.n; i++)
		if (bal.slots[i].task == w->slot.task && bal.slots[i].ref.gen == w->slot.ref.gen)
			return bal.items[i].load;
	return -1;
}

static void check_loads(struct worker *hog, struct worker *sleeper)
{
	struct timespec pause = { 0, 100000000 };
	struct bal_pass p;
	int i;

	for (i = 0; i < 2; i++) {
		TH_CHECK(!bal_run(&bal, &p), "pass %d failed", i);
		nanosleep(&pause, NULL);
	}
	TH_CHECK(!bal_run(&bal, &p), "pass 2 failed");
	TH_CHECK(load_of(hog) == BAL_ONE, "a thread that never sleeps has load %ld, not %d",
		 load_of(hog), BAL_ONE);
	TH_CHECK(load_of(sleeper) == 0, "a thread asleep throughout has load %ld",
		 load_of(sleeper));
	TH_CHECK(p.tasks > 2 && p.busy >= 1, "the pass took %d tasks, %d busy", p.tasks, p.busy);
}

static void check_ack(struct worker *w)
{
	struct bal_task *t = w->slot.task;
	__u32 gen, before;

	gen = bal_place(&bal, &w->slot, 1);
	TH_CHECK(gen && t->applied != gen, "acknowledged while asleep");
	poke(w);
	TH_CHECK(t->applied == gen, "not acknowledged at the next switch-in: %u, want %u",
		 t->applied, gen);

	before = t->applied;
	__atomic_store_n(&t->placement, BAL_PLACE(before + 1, 5000), __ATOMIC_RELEASE);
	poke(w);
	TH_CHECK(t->applied == before, "a placement on domain 5000 was acknowledged");
}

/* ---- setup ------------------------------------------------------------ */

static struct balance_trace_bpf *trace_load(void)
{
	struct balance_trace_bpf *skel = balance_trace_bpf__open();

	if (!skel)
		th_fatal("open balance_trace: %m");
	skel->rodata->ncpus = 2;
	if (tld_loader_reuse_agent(skel->obj, dir) || balance_trace_bpf__load(skel) ||
	    balance_trace_bpf__attach(skel))
		th_fatal("cannot load balance_trace over the store at %s", dir);
	return skel;
}

int main(void)
{
	struct balance_trace_bpf *skel;
	struct worker hog = { 0 }, sleeper = { 0 };

	check_plan();
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/tld-test/balance-%d", getpid());
	agent = th_agent_create(dir, "");
	if (bal_init(&bal, agent, 2))
		th_fatal("the store's task records cannot hold a struct bal_task");
	skel = trace_load();
	start(&hog, false);
	start(&sleeper, true);

	check_runtime(&sleeper);
	check_loads(&hog, &sleeper);
	check_ack(&sleeper);
	check_runtime(&sleeper);

	finish(&hog);
	finish(&sleeper);
	balance_trace_bpf__destroy(skel);
	bal_fini(&bal);
	th_agent_remove(agent, dir);
	th_done();
}
