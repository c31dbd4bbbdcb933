/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Resident memory per thread: a child process starts @n threads with
 * 64 KiB stacks, each calls @touch and waits; the child's RSS growth
 * divided by @n comes back through a pipe. A fresh process each time, so
 * that nothing earlier is counted.
 */
#ifndef BENCH_THREADS_H
#define BENCH_THREADS_H

#include <pthread.h>
#include <string.h>

#include "stats.h"
#include <sys/wait.h>
#include <unistd.h>

static pthread_barrier_t bench_parked, bench_release;
static void (*bench_touch)(void);

/*
 * From smaps_rollup, which walks the page tables: status's VmRSS is a
 * per-CPU counter read without folding, and lagged by thousands of pages
 * once every thread faulted a shared page in (tld's store is a memfd).
 */
static long bench_rss_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Rss:", 4))
			kb = atol(line + 4);
	if (f)
		fclose(f);
	return kb;
}

static void *bench_parker(void *arg)
{
	(void)arg;
	if (bench_touch)
		bench_touch();
	pthread_barrier_wait(&bench_parked);
	pthread_barrier_wait(&bench_release);
	return NULL;
}

static double bench_child_rss(int n)
{
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_attr_t attr;
	long before;
	double per;
	int i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_barrier_init(&bench_parked, NULL, n + 1);
	pthread_barrier_init(&bench_release, NULL, n + 1);
	before = bench_rss_kb();
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], &attr, bench_parker, NULL))
			return -1;
	pthread_barrier_wait(&bench_parked);
	per = (bench_rss_kb() - before) * 1024.0 / n;
	pthread_barrier_wait(&bench_release);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return per;
}

/* Bytes of RSS per thread that calls @touch (NULL: a bare thread). */
static inline double bench_rss_per_thread(int n, void (*touch)(void))
{
	double per = -1;
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		bench_touch = touch;
		per = bench_child_rss(n);
		if (write(fds[1], &per, sizeof(per)) != sizeof(per))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &per, sizeof(per)) != sizeof(per))
		per = -1;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return per;
}

/* "@prefix.N": RSS growth per thread that calls @touch, over a bare thread, at N threads. */
static inline void bench_report_rss(const char *prefix, void (*touch)(void))
{
	static const int counts[] = { 1000, 10000 };
	double v[3];
	char name[64];
	int i, r;

	for (i = 0; i < 2; i++) {
		for (r = 0; r < 3; r++)
			v[r] = bench_rss_per_thread(counts[i], touch) -
			       bench_rss_per_thread(counts[i], NULL);
		snprintf(name, sizeof(name), "%s.%d", prefix, counts[i]);
		bench_report(name, v, 3, "B");
	}
}

#endif
