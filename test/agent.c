// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent store against the real kernel: a record for every task and
 * cgroup, found by BPF from the task_struct and by the agent from the tid
 * or cgroup id, with no system call per lookup; freed when its object
 * goes; never another task's after a tid is reused; never torn; memory
 * that follows the live records; a full store that says so.
 *
 * Checked to fail (make mutate): with the free hook freeing nothing, the old
 * task's record stays live; with the index keeping the old task's bucket
 * for a reused tid, or dropping buckets by id instead of by slot, the
 * lookup misses the new task's record; with the bound not enforced, the
 * store of 16 holds more.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tld/agent.h>
#include <tld/loader.h>

#include "harness.h"
#include "agent.skel.h"
#include "bpf/agent.h"

#define THREADS		10000
#define BATCH		50
#define CGROUPS		1000

static struct tld_agent *agent;
static struct agent_bpf *prog;
static char dir[256];

static double now(void)
{
	return th_now_ns() / 1e9;
}

static const struct tld_agent_kind_hdr *kind(int k)
{
	return &tld_agent_stats(agent)->kind[k];
}

static void prog_load(void)
{
	prog = agent_bpf__open();
	if (!prog || tld_loader_reuse_agent(prog->obj, dir) || agent_bpf__load(prog) ||
	    agent_bpf__attach(prog))
		th_fatal("cannot load the agent test's BPF program");
	th_ack_watch(prog->bss->th_acks);
}

/* The calling thread's record, made by maintenance if the hook found no slot. */
static struct th_agent_task *own_record(struct tld_agent_ref *ref, bool *late)
{
	struct th_agent_task *t = tld_agent_task(agent, th_gettid(), ref);

	*late = !t;
	if (!t && !tld_agent_maintain(agent))
		t = tld_agent_task(agent, th_gettid(), ref);
	return t;
}

static int stamp_of(const struct tld_agent_ref *ref, struct th_agent_stamp *st)
{
	return tld_agent_read_seq(agent, ref, 0, st, sizeof(*st));
}

/* ---- 10,000 threads -------------------------------------------------- */

static struct tld_agent_ref refs[THREADS];
static int late_total, bad_total, bad_none, bad_stamp, bad_seen, bad_id;

static void bad(int *what)
{
	__atomic_add_fetch(what, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&bad_total, 1, __ATOMIC_RELAXED);
}

static void *churn_thread(void *arg)
{
	struct tld_agent_ref *ref = arg;
	struct th_agent_stamp st;
	struct th_agent_task *t;
	pid_t tid = th_gettid();
	bool late;

	t = own_record(ref, &late);
	if (!t) {
		bad(&bad_none);
		return NULL;
	}
	/*
	 * A record made at creation carries BPF's stamp; one that maintenance
	 * made (here, or in another thread meanwhile) carries none.
	 */
	if (stamp_of(ref, &st))
		bad(&bad_stamp);
	else if (!st.tid && !st.check)
		__atomic_add_fetch(&late_total, 1, __ATOMIC_RELAXED);
	else if (st.tid != (__u64)tid || st.check != ~(__u64)tid)
		bad(&bad_stamp);
	(void)late;
	t->agent = (__u64)tid * 7;
	th_mark(0);
	if (t->seen != (__u64)tid * 7)
		bad(&bad_seen);
	if (ref->id != (__u64)tid)
		bad(&bad_id);
	return NULL;
}

static int live_count(void)
{
	int i, n = 0;

	for (i = 0; i < THREADS; i++)
		n += tld_agent_live(agent, &refs[i]);
	return n;
}

/*
 * The free hooks are RCU callbacks, and the kernel skips one entered on a
 * CPU where another task is preempted inside the same program: then
 * maintenance sweeps the record, once two passes did not see its task.
 * Wait for both, within a liveness bound.
 */
static bool all_freed(void)
{
	double deadline = now() + 10;

	while (live_count() && now() < deadline) {
		usleep(1000);
		tld_agent_maintain(agent);
	}
	return !live_count();
}

static void many_threads(void)
{
	pthread_t t[BATCH];
	__u64 freed = kind(TLD_AGENT_TASK)->freed;
	int i, j;

	for (i = 0; i < THREADS / BATCH; i++) {
		for (j = 0; j < BATCH; j++)
			pthread_create(&t[j], NULL, churn_thread, &refs[i * BATCH + j]);
		for (j = 0; j < BATCH; j++)
			pthread_join(t[j], NULL);
	}
	TH_CHECK(!bad_total, "of %d threads: %d had no record, %d a wrong stamp, %d a wrong id; BPF missed the agent's write for %d",
		 THREADS, bad_none, bad_stamp, bad_id, bad_seen);
	TH_CHECK(all_freed(), "%d of %d exited threads' records are still live", live_count(),
		 THREADS);
	TH_CHECK(kind(TLD_AGENT_TASK)->freed - freed >= THREADS, "only %llu records freed",
		 (unsigned long long)(kind(TLD_AGENT_TASK)->freed - freed));
	printf("%d threads: every record found by the agent and by BPF, %d made by maintenance, %llu freed by maintenance\n",
	       THREADS, late_total, (unsigned long long)kind(TLD_AGENT_TASK)->swept);
}

/*
 * Every page of records holds a live one or is in the reserve: memory
 * follows the live records. The counters move with other tasks on the
 * machine, so the check is made on a snapshot during which none changed.
 */
static bool pages_follow_records(int k, char *why, size_t len)
{
	const struct tld_agent_kind_hdr *h = kind(k);
	struct tld_agent_ref ref;
	unsigned long pos = 0;
	__u64 made = h->made, freed = h->freed, per_page, want;
	__u32 pages[4096], n = 0, i;

	while (tld_agent_next(agent, k, &pos, &ref)) {
		for (i = 0; i < n && pages[i] != ref.slot / 4096; i++)
			;
		if (i == n && n < 4096)
			pages[n++] = ref.slot / 4096;
	}
	if (h->made != made || h->freed != freed)
		return snprintf(why, len, "moved"), false;
	per_page = (TLD_AGENT_PAGE - TLD_AGENT_PAGE_HDR) / h->stride;
	want = tld_agent_stats(agent)->reserve + h->live / 8;
	snprintf(why, len, "%u pages: %u with live records, %u empty (reserve of %llu slots)",
		 h->npages, n, h->nempty, (unsigned long long)want);
	return h->npages == n + h->nempty && h->nempty * per_page < 2 * want + 2 * per_page;
}

static void memory_follows(void)
{
	char why[160];
	int tries;
	bool ok = false;

	for (tries = 0; tries < 100 && !ok; tries++) {
		TH_CHECK(!tld_agent_maintain(agent), "maintenance");
		ok = pages_follow_records(TLD_AGENT_TASK, why, sizeof(why));
	}
	TH_CHECK(ok, "task pages: %s", why);
	printf("after the threads and maintenance: %s; %llu arena pages in use\n", why,
	       (unsigned long long)tld_agent_stats(agent)->pages_used);
}

/* ---- a reused tid ----------------------------------------------------- */

static pthread_barrier_t reuse_step;

static void *hold(void *arg)
{
	struct tld_agent_ref *ref = arg;
	bool late;

	if (!own_record(ref, &late))
		memset(ref, 0, sizeof(*ref));
	pthread_barrier_wait(&reuse_step);
	pthread_barrier_wait(&reuse_step);
	return NULL;
}

/* Start hold() in a thread whose tid is @want, if the kernel gives it. */
static pid_t hold_with_tid(pthread_t *t, struct tld_agent_ref *ref, pid_t want)
{
	char task[64];
	FILE *f;

	/* The old thread's tid is free once its /proc entry is gone. */
	snprintf(task, sizeof(task), "/proc/self/task/%d", want);
	while (!access(task, F_OK))
		usleep(100);
	f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	if (!f)
		th_skip("cannot write ns_last_pid: %m");
	fprintf(f, "%d", want - 1);
	fclose(f);
	pthread_create(t, NULL, hold, ref);
	pthread_barrier_wait(&reuse_step);
	return ref->id;
}

/*
 * The kernel frees a task (and runs the free hook) after its tid may have
 * gone to a new task. The agent must find the new task's record for that
 * tid, before and after the old one is freed, and the old record's name
 * must stop being live.
 */
static void reused_tid(void)
{
	struct tld_agent_ref old = { 0 }, new = { 0 }, got;
	struct th_agent_stamp st;
	pthread_t a, b;
	int tries;

	pthread_barrier_init(&reuse_step, NULL, 2);
	for (tries = 0; tries < 100; tries++) {
		pthread_create(&a, NULL, hold, &old);
		pthread_barrier_wait(&reuse_step);
		pthread_barrier_wait(&reuse_step);
		pthread_join(a, NULL);
		if (hold_with_tid(&b, &new, old.id) == (pid_t)old.id && old.id)
			break;
		pthread_barrier_wait(&reuse_step);
		pthread_join(b, NULL);
	}
	if (!old.id || new.id != old.id)
		th_fatal("could not reuse a tid in 100 tries");
	TH_CHECK(tld_agent_task(agent, old.id, &got) && got.birth == new.birth &&
		 got.birth != old.birth, "tid %llu: the lookup did not find the new task's record",
		 (unsigned long long)old.id);
	TH_CHECK(!stamp_of(&got, &st) && st.tid == old.id, "the new record's stamp");
	{
		double deadline = now() + 10;

		while (tld_agent_live(agent, &old) && now() < deadline)
			usleep(1000);
	}
	TH_CHECK(!tld_agent_live(agent, &old), "the old task's record is still live");
	TH_CHECK(tld_agent_task(agent, old.id, &got) && got.birth == new.birth,
		 "after the old task's free, tid %llu's record is not the new task's",
		 (unsigned long long)old.id);
	pthread_barrier_wait(&reuse_step);
	pthread_join(b, NULL);
	printf("tid %llu reused after %d tries: the lookup found the new task's record throughout\n",
	       (unsigned long long)old.id, tries + 1);
}

/* ---- cgroups ----------------------------------------------------------- */

/* BPF copies the cgroup's record into the task's: read it through the agent. */
static __u64 cgroup_seen_by_bpf(const char *cg)
{
	struct th_agent_task *t;
	struct th_child c;
	__u64 seen = 0;

	if (th_child_in_cgroup(&c, cg) && (t = tld_agent_task(agent, c.pid, NULL)))
		seen = t->cgroup_seen;
	TH_CHECK(th_child_end(&c), "the child in %s", cg);
	return seen;
}

static char cg_top[200];

/* At any exit: a failed run must not leave a thousand cgroups behind. */
static void cgroups_remove(void)
{
	char path[300];
	int i;

	for (i = 0; i < CGROUPS; i++) {
		snprintf(path, sizeof(path), "%s/c%d", cg_top, i);
		rmdir(path);
	}
	rmdir(cg_top);
}

static void many_cgroups(void)
{
	char *top = cg_top, path[300];
	struct th_agent_cgroup *c;
	__u64 ids[CGROUPS], live = kind(TLD_AGENT_CGROUP)->live;
	int i, found = 0, gone = 0;

	snprintf(cg_top, sizeof(cg_top), "%s/tld-test-agent-%d", th_cgroup2_root(), getpid());
	if (mkdir(top, 0755))
		th_fatal("mkdir %s: %m", top);
	atexit(cgroups_remove);
	for (i = 0; i < CGROUPS; i++) {
		snprintf(path, sizeof(path), "%s/c%d", top, i);
		if (mkdir(path, 0755) || tld_agent_cgroup_id(path, &ids[i]))
			th_fatal("mkdir %s: %m", path);
		c = tld_agent_cgroup(agent, ids[i], NULL);
		if (!c && !tld_agent_maintain(agent))
			c = tld_agent_cgroup(agent, ids[i], NULL);
		if (c) {
			c->value = 1000 + i;
			found++;
		}
	}
	TH_CHECK(found == CGROUPS, "%d of %d cgroups have records", found, CGROUPS);
	snprintf(path, sizeof(path), "%s/c%d", top, CGROUPS / 2);
	TH_CHECK(cgroup_seen_by_bpf(path) == 1000 + CGROUPS / 2,
		 "BPF did not find the record of its task's cgroup");
	for (i = 0; i < CGROUPS; i++) {
		snprintf(path, sizeof(path), "%s/c%d", top, i);
		if (rmdir(path))
			th_fatal("rmdir %s: %m", path);
		gone += !tld_agent_cgroup(agent, ids[i], NULL);
	}
	rmdir(top);
	TH_CHECK(gone == CGROUPS, "%d of %d cgroups' records outlived their rmdir", CGROUPS - gone,
		 CGROUPS);
	TH_CHECK(kind(TLD_AGENT_CGROUP)->live == live, "live cgroup records %llu, was %llu",
		 (unsigned long long)kind(TLD_AGENT_CGROUP)->live, (unsigned long long)live);
	printf("%d cgroups: each found at mkdir, found by BPF from its task, freed at rmdir\n",
	       CGROUPS);
}

/* ---- the agent scans while tasks come and go ------------------------------ */

static volatile bool churning;

static void *noop(void *arg)
{
	return arg;
}

static void *churner(void *arg)
{
	pthread_t t;

	while (churning) {
		pthread_create(&t, NULL, noop, NULL);
		pthread_join(t, NULL);
	}
	return arg;
}

/* Every record accepted is whole and its object's: its stamp names it. */
static void concurrent_scan(void)
{
	struct th_agent_stamp st;
	struct tld_agent_ref ref;
	pthread_t c[2];
	unsigned long pos;
	long checked = 0, wrong = 0, rounds;
	int i;

	churning = true;
	for (i = 0; i < 2; i++)
		pthread_create(&c[i], NULL, churner, NULL);
	for (rounds = 0; rounds < 2000; rounds++) {
		pos = 0;
		while (tld_agent_next(agent, TLD_AGENT_TASK, &pos, &ref)) {
			if (stamp_of(&ref, &st) || !st.tid)
				continue;
			checked++;
			wrong += st.tid != ref.id || st.check != ~ref.id;
		}
	}
	churning = false;
	for (i = 0; i < 2; i++)
		pthread_join(c[i], NULL);
	TH_CHECK(checked > 0 && !wrong, "%ld of %ld stamped records read while tasks churned were torn or another's",
		 wrong, checked);
	printf("scans during churn: %ld stamped records checked, none torn or another's\n", checked);
}

/* ---- a full store ------------------------------------------------------- */

static void full_store(void)
{
	char small[300], cmd[400], out[2048], *p;
	struct tld_agent *sa;
	pthread_t t[BATCH];
	int i;

	snprintf(small, sizeof(small), "%s-small", dir);
	sa = th_agent_create(small, "--max-records 16 --reserve 8");
	churning = true;
	for (i = 0; i < BATCH; i++)
		pthread_create(&t[i], NULL, noop, NULL);
	for (i = 0; i < BATCH; i++)
		pthread_join(t[i], NULL);
	churning = false;
	TH_CHECK(!tld_agent_maintain(sa), "maintenance of a full store");
	TH_CHECK(tld_agent_stats(sa)->kind[TLD_AGENT_TASK].live <= 16 &&
		 tld_agent_stats(sa)->kind[TLD_AGENT_TASK].full > 0,
		 "a store of 16: %llu live, %llu refused",
		 (unsigned long long)tld_agent_stats(sa)->kind[TLD_AGENT_TASK].live,
		 (unsigned long long)tld_agent_stats(sa)->kind[TLD_AGENT_TASK].full);
	snprintf(cmd, sizeof(cmd), "--path %s -j agent show", small);
	TH_CHECK(!th_tldtool(cmd, out, sizeof(out)) && (p = strstr(out, "\"tasks\"")) &&
		 (p = strstr(p, "\"full\":")) && atoi(p + 7) > 0,
		 "tldtool does not show the refusals: %s", out);
	th_agent_remove(sa, small);
}

int main(void)
{
	struct tld_agent_ref ref;
	struct th_agent_task *self;
	bool late;

	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/tld-test/agent-%d", getpid());
	agent = th_agent_create(dir, "--max-records 16384");
	prog_load();

	/* A task that existed when the store was made has a record. */
	self = tld_agent_task(agent, th_gettid(), &ref);
	TH_CHECK(self && ref.id == (__u64)th_gettid() && ref.birth, "no record for the main thread");
	if (self) {
		self->agent = 4242;
		th_mark(0);
		TH_CHECK(self->seen == 4242, "BPF saw %llu, not the agent's write",
			 (unsigned long long)self->seen);
	}
	(void)own_record(&ref, &late);
	many_threads();
	memory_follows();
	reused_tid();
	many_cgroups();
	concurrent_scan();

	th_ack_unwatch(prog->bss->th_acks);
	agent_bpf__destroy(prog);
	/* One store mapped at a time: they all live at TLD_AGENT_ADDR. */
	th_agent_remove(agent, dir);
	full_store();
	rmdir("/sys/fs/bpf/tld-test");
	th_done();
}
