// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 7: what tld costs every task on the machine, tld's or not. A map's
 * guard sweeps at every sched_switch and sched_waking of every task, and
 * its exec and exit programs run at every exec and exit. Measured with a
 * map of its own made and removed by the tldtool beside it, against none,
 * and against programs that do nothing on the guard's two tracepoints
 * (the floor: bpf/switch_floor.bpf.c), interleaved in one run:
 *
 *	pingpong  a token passed through two pipes by two threads pinned to
 *		  one CPU, which never use tld: a round trip is two wakeups
 *		  and two switches
 *	spawn     posix_spawn() of /bin/true and its wait: an exec and an
 *		  exit
 *
 * With kernel.bpf_stats_enabled every BPF run also reads the clock twice,
 * which no production system pays: it is switched off for the group and
 * back on after. Run before bench/run.sh makes its own map. If another
 * tld guard is attached (a map pinned elsewhere), "without" cannot be
 * had: it says so.
 */
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "stats.h"
#include "switch_floor.skel.h"

#define ROUNDS		20000
#define SPAWNS		200

extern char **environ;

#define BPF_STATS	"/proc/sys/kernel/bpf_stats_enabled"

static char tldtool[PATH_MAX];
static int ping[2], pong[2];

/* How many of the guard's sweep programs are loaded, anyone's. */
static int guards_loaded(void)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int fd, n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_prog_get_info_by_fd(fd, &info, &len) &&
		    !strncmp(info.name, "tld_guard_switc", sizeof(info.name) - 1))
			n++;
		close(fd);
	}
	return n;
}

static void map(const char *verb)
{
	char cmd[PATH_MAX + 128];

	snprintf(cmd, sizeof(cmd), "%s --path /sys/fs/bpf/tld-bench-switch/tld_data_map map %s%s >/dev/null",
		 tldtool, verb, strcmp(verb, "create") ? "" : " --mode 0600");
	if (system(cmd)) {
		fprintf(stderr, "switch: %s failed\n", cmd);
		exit(1);
	}
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *ponger(void *arg)
{
	char c;

	pin_cpu0();
	while (read(ping[0], &c, 1) == 1 && c)
		if (write(pong[1], &c, 1) != 1)
			break;
	return arg;
}

/* Set kernel.bpf_stats_enabled to @on; what it was. */
static bool bpf_stats(bool on)
{
	FILE *f = fopen(BPF_STATS, "r+");
	int was = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &was) == 1 && was != on) {
		rewind(f);
		fprintf(f, "%d\n", on);
	}
	fclose(f);
	return was;
}

/* ns per round trip */
static double pingpong(void)
{
	double t0;
	char c = 1;
	long i;

	t0 = bench_now_ns();
	for (i = 0; i < ROUNDS; i++)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			exit(1);
	return (bench_now_ns() - t0) / ROUNDS;
}

/* us per spawn and wait */
static double spawn(void)
{
	char *argv[] = { "true", NULL };
	double t0 = bench_now_ns();
	pid_t pid;
	int i, st;

	for (i = 0; i < SPAWNS; i++) {
		if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ))
			exit(1);
		waitpid(pid, &st, 0);
	}
	return (bench_now_ns() - t0) / SPAWNS / 1000;
}

int main(void)
{
	double pw[BENCH_REPS], pf[BENCH_REPS], pg[BENCH_REPS], sw[BENCH_REPS], sg[BENCH_REPS];
	struct switch_floor_bpf *floor;
	char exe[PATH_MAX], c = 0;
	bool stats;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pthread_t t;
	int r;

	if (n < 0)
		return 1;
	exe[n] = '\0';
	snprintf(tldtool, sizeof(tldtool), "%s/../tldtool", dirname(exe));
	if (guards_loaded()) {
		printf("skip switch another tld guard is attached (%d), so nothing runs without one\n",
		       guards_loaded());
		return 0;
	}
	floor = switch_floor_bpf__open_and_load();
	if (!floor || pipe(ping) || pipe(pong) || pthread_create(&t, NULL, ponger, NULL))
		return 1;
	stats = bpf_stats(false);
	pin_cpu0();
	for (r = 0; r < BENCH_REPS; r++) {
		pw[r] = pingpong();
		sw[r] = spawn();
		if (switch_floor_bpf__attach(floor))
			return 1;
		pf[r] = pingpong();
		switch_floor_bpf__detach(floor);
		map("create");
		pg[r] = pingpong();
		sg[r] = spawn();
		map("remove");
	}
	if (write(ping[1], &c, 1) != 1)
		return 1;
	pthread_join(t, NULL);
	bpf_stats(stats);
	switch_floor_bpf__destroy(floor);
	rmdir("/sys/fs/bpf/tld-bench-switch");
	bench_report("switch.pingpong_without", pw, BENCH_REPS, "ns");
	bench_report("switch.pingpong_floor", pf, BENCH_REPS, "ns");
	bench_report("switch.pingpong_with", pg, BENCH_REPS, "ns");
	bench_report("switch.spawn_without", sw, BENCH_REPS, "us");
	bench_report("switch.spawn_with", sg, BENCH_REPS, "us");
	return 0;
}
