// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 6: the agent store against the status quo, with 10,000 live
 * threads. The agent's full scan of their records against a pid-keyed hash
 * map holding the same values, read with bpf_map_lookup_batch() and with
 * one bpf_map_lookup_elem() per tid; a lookup by tid; a BPF lookup from
 * the task_struct against a bare task-storage lookup; bytes per live
 * record; fork and exit with the store's hooks attached and without.
 * Makes and removes its own store with the tldtool beside it.
 */
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tld/agent.h>
#include <tld/loader.h>

#include "stats.h"
#include "agent_read.skel.h"

#define THREADS		10000
#define VALUE		64
#define FORKS		300

__attribute__((noinline, used)) void bench_trigger_empty(void) { __asm__ volatile("nop; # e"); }
__attribute__((noinline, used)) void bench_trigger_bare(void) { __asm__ volatile("nop; # b"); }
__attribute__((noinline, used)) void bench_trigger_record(void) { __asm__ volatile("nop; # r"); }

static char dir[128], tldtool[PATH_MAX];
static pthread_barrier_t parked, release;
static pid_t tids[THREADS];
static struct tld_agent *agent;

static void store(const char *verb)
{
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd), "%s --path %s agent %s %s >/dev/null", tldtool, dir, verb,
		 strcmp(verb, "create") ? "" : "--max-records 16384 --reserve 1024");
	if (system(cmd)) {
		fprintf(stderr, "agent: %s failed\n", cmd);
		exit(1);
	}
}

static void *parker(void *arg)
{
	*(pid_t *)arg = gettid();
	pthread_barrier_wait(&parked);
	pthread_barrier_wait(&release);
	return NULL;
}

static void threads_start(pthread_t *t)
{
	pthread_attr_t attr;
	int i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_barrier_init(&parked, NULL, THREADS + 1);
	pthread_barrier_init(&release, NULL, THREADS + 1);
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], &attr, parker, &tids[i]))
			exit(1);
	pthread_barrier_wait(&parked);
}

static void threads_stop(pthread_t *t)
{
	int i;

	pthread_barrier_wait(&release);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* The same values in a pid-keyed hash map, as agents keep them today. */
static int hash_fill(void)
{
	char value[VALUE] = { 1 };
	int fd, i;

	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_by_pid", 4, VALUE, THREADS * 2, NULL);
	for (i = 0; fd >= 0 && i < THREADS; i++)
		bpf_map_update_elem(fd, &tids[i], value, 0);
	return fd;
}

/* The agent's full scan; -1 if it missed a thread, which would be no race. */
static double scan_agent(void)
{
	struct tld_agent_ref ref;
	unsigned long pos = 0;
	volatile __u64 sum = 0;
	double t0 = bench_now_ns(), t;
	int n = 0;
	__u64 *p;

	while ((p = tld_agent_next(agent, TLD_AGENT_TASK, &pos, &ref))) {
		sum += *p;
		n++;
	}
	t = bench_now_ns() - t0;
	return n >= THREADS ? t : -1;
}

static double scan_batch(int fd)
{
	static __u32 keys[1024];
	static char values[1024][VALUE];
	__u32 batch, count;
	bool first = true;
	double t0 = bench_now_ns();
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	for (;;) {
		count = 1024;
		if (bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, values, &count,
					 &opts) && errno != ENOENT)
			return -1;
		first = false;
		if (count < 1024)
			break;
	}
	return bench_now_ns() - t0;
}

static double scan_elem(int fd)
{
	char value[VALUE];
	double t0 = bench_now_ns();
	int i;

	for (i = 0; i < THREADS; i++)
		bpf_map_lookup_elem(fd, &tids[i], value);
	return bench_now_ns() - t0;
}

static double lookup_tid(void)
{
	volatile void *p;
	double t0 = bench_now_ns();
	int i;

	for (i = 0; i < THREADS; i++)
		p = tld_agent_task(agent, tids[i], NULL);
	(void)p;
	return (bench_now_ns() - t0) / THREADS;
}

static void scans(void)
{
	double a[BENCH_REPS], b[BENCH_REPS], e[BENCH_REPS], l[BENCH_REPS];
	int fd = hash_fill(), r;

	if (fd < 0) {
		fprintf(stderr, "agent: cannot make the hash map: %m\n");
		exit(1);
	}
	for (r = 0; r < BENCH_REPS; r++) {
		a[r] = scan_agent() / 1000;
		b[r] = scan_batch(fd) / 1000;
		e[r] = scan_elem(fd) / 1000;
		l[r] = lookup_tid();
	}
	close(fd);
	bench_report("agent.scan", a, BENCH_REPS, "us");
	bench_report("agent.scan_batch", b, BENCH_REPS, "us");
	bench_report("agent.scan_elem", e, BENCH_REPS, "us");
	bench_report("agent.lookup", l, BENCH_REPS, "ns");
}

static void run_time(struct bpf_program *prog, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

static double per_run(struct bpf_program *prog, void (*trigger)(void))
{
	__u64 ns0, cnt0, ns1, cnt1;
	int i;

	run_time(prog, &ns0, &cnt0);
	for (i = 0; i < 20000; i++)
		trigger();
	run_time(prog, &ns1, &cnt1);
	return cnt1 > cnt0 ? (double)(ns1 - ns0) / (cnt1 - cnt0) : -1;
}

static void attach(struct bpf_program *prog, const char *func)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func);

	if (!bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe", 0, &opts))
		exit(1);
}

/* Per read: a run's time less the empty loop's, over the reads a run makes. */
static void bpf_reads(void)
{
	struct agent_read_bpf *skel = agent_read_bpf__open();
	double e, bare[BENCH_REPS], rec[BENCH_REPS];
	int stats_fd, r;

	if (!skel || tld_loader_reuse_agent(skel->obj, dir) || agent_read_bpf__load(skel) ||
	    (stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME)) < 0) {
		fprintf(stderr, "agent: cannot load the readers or enable bpf_stats\n");
		exit(1);
	}
	attach(skel->progs.agent_empty, "bench_trigger_empty");
	attach(skel->progs.agent_bare, "bench_trigger_bare");
	attach(skel->progs.agent_record, "bench_trigger_record");
	for (r = 0; r < BENCH_REPS; r++) {
		e = per_run(skel->progs.agent_empty, bench_trigger_empty);
		bare[r] = (per_run(skel->progs.agent_bare, bench_trigger_bare) - e) / 64;
		rec[r] = (per_run(skel->progs.agent_record, bench_trigger_record) - e) / 64;
	}
	bench_report("agent.bpf_bare", bare, BENCH_REPS, "ns");
	bench_report("agent.bpf_record", rec, BENCH_REPS, "ns");
	close(stats_fd);
	agent_read_bpf__destroy(skel);
}

static void memory(void)
{
	const struct tld_agent_hdr *h = tld_agent_stats(agent);
	const struct tld_agent_kind_hdr *k = &h->kind[TLD_AGENT_TASK];
	double all = (double)h->pages_used * TLD_AGENT_PAGE / k->live;
	double recs = (double)k->npages * TLD_AGENT_PAGE / k->live;

	bench_report("agent.bytes_per_record", &all, 1, "B");
	bench_report("agent.record_bytes", &recs, 1, "B");
}

static double forks(void)
{
	double t0 = bench_now_ns();
	pid_t pid;
	int i;

	for (i = 0; i < FORKS; i++) {
		pid = fork();
		if (!pid)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
	return (bench_now_ns() - t0) / FORKS / 1000;
}

static void fork_exit(void)
{
	double without[BENCH_REPS], with[BENCH_REPS];
	int r;

	for (r = 0; r < BENCH_REPS; r++) {
		without[r] = forks();
		store("create");
		with[r] = forks();
		store("remove");
	}
	bench_report("agent.fork_without", without, BENCH_REPS, "us");
	bench_report("agent.fork_with", with, BENCH_REPS, "us");
}

/* A kernel that makes no arena map cannot hold a store: say so, and skip. */
static void need_arena(void)
{
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARENA, NULL) != 1) {
		printf("skip agent this kernel makes no arena map\n");
		exit(0);
	}
}

int main(void)
{
	static pthread_t t[THREADS];
	char exe[PATH_MAX];
	TLD_AGENT_OPTS(opts, .path = dir);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return 1;
	exe[n] = '\0';
	snprintf(tldtool, sizeof(tldtool), "%s/../tldtool", dirname(exe));
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/tld-bench/agent");
	need_arena();
	fork_exit();
	store("create");
	if (tld_agent_open(&opts, &agent))
		return 1;
	threads_start(t);
	/* Threads the hooks found no free slot for get theirs here. */
	tld_agent_maintain(agent);
	scans();
	bpf_reads();
	memory();
	threads_stop(t);
	tld_agent_close(agent);
	store("remove");
	return 0;
}
