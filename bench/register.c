// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 3: a thread's first tld_get_data(), which registers it (a page,
 * a pidfd, a map update, the vouch), in microseconds; and the whole life
 * of a thread that uses tld, against one that does not. "register broker"
 * names its rows broker.*: run.sh runs it so where it registers through
 * tldd (strict mode).
 */
#include <pthread.h>
#include <stdio.h>
#include <tld/tld.h>

#include "stats.h"

#define THREADS		300
#define LIVES		2000

TLD_DEFINE_KEY(hint_key, "bench.hint", sizeof(__u64));

static void *first_use(void *arg)
{
	double t0 = bench_now_ns();
	__u64 *p = tld_get_data(hint_key);

	*(double *)arg = p ? (bench_now_ns() - t0) / 1000 : -1;
	return NULL;
}

static void *use(void *arg)
{
	__u64 *p = tld_get_data(hint_key);

	(void)arg;
	if (p)
		*p = 1;
	return NULL;
}

static void *idle(void *arg)
{
	return arg;
}

/* Microseconds per thread created, run and joined. */
static double lives(void *(*fn)(void *))
{
	double t0 = bench_now_ns();
	pthread_t t;
	int i;

	for (i = 0; i < LIVES; i++) {
		pthread_create(&t, NULL, fn, NULL);
		pthread_join(t, NULL);
	}
	return (bench_now_ns() - t0) / LIVES / 1000;
}

static void report(const char *group, const char *row, double *v, int n)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", group, row);
	bench_report(name, v, n, "us");
}

int main(int argc, char **argv)
{
	double first[THREADS], with[BENCH_REPS], without[BENCH_REPS], p99;
	const char *group = argc > 1 ? argv[1] : "register";
	pthread_t t;
	int i;

	use(NULL);	/* the process's own setup is not a thread's */
	for (i = 0; i < THREADS; i++) {
		pthread_create(&t, NULL, first_use, &first[i]);
		pthread_join(t, NULL);
	}
	report(group, "first_use", first, THREADS);
	p99 = bench_percentile(first, THREADS, 99);
	printf("%s.first_use_p99 %.4g %.4g %.4g us\n", group, p99, p99, p99);
	for (i = 0; i < BENCH_REPS; i++) {
		without[i] = lives(idle);
		with[i] = lives(use);
	}
	report(group, "life_without", without, BENCH_REPS);
	report(group, "life_with", with, BENCH_REPS);
	return 0;
}
