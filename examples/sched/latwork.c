// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * latwork: a workload for scx_tld. HOGS batch threads (latency nice 10)
 * spin; then one thread that says it is latency-critical (-10), and after
 * it an identical one that says nothing, each sleep 1 ms SLEEPS times and
 * measure how late every wakeup ran. Prints both p50s and p99s.
 *
 *	latwork [HOGS [SLEEPS]]
 *
 * The sleepers run one after the other: an unhinted thread that woke with
 * a latency-critical one would run on the CPU that the latter's
 * preemption freed, and measure nothing of its own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <tld/tld.h>

#include "scx_tld.h"

#define SLEEP_NS	1000000

TLD_DEFINE_KEY(nice_key, SCX_TLD_NICE_KEY, sizeof(__s32));

struct sleeper {
	const char *name;
	int nice;
	int n;
	__u64 *late_ns;
};

static volatile int stop;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int hint(int nice)
{
	__s32 *p = tld_get_data(nice_key);

	if (!p)
		return -1;
	*p = nice;
	return 0;
}

static void *hog(void *arg)
{
	(void)arg;
	if (hint(10))
		return NULL;
	while (!stop)
		;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void *sleep_and_measure(void *arg)
{
	struct timespec ts = { 0, SLEEP_NS };
	struct sleeper *s = arg;
	__u64 t0;
	int i;

	prctl(PR_SET_TIMERSLACK, 1);
	if (hint(s->nice))
		return NULL;
	for (i = 0; i < s->n; i++) {
		t0 = now_ns();
		nanosleep(&ts, NULL);
		s->late_ns[i] = now_ns() - t0 - SLEEP_NS;
	}
	qsort(s->late_ns, s->n, sizeof(__u64), cmp_u64);
	printf("%s: p50 %llu us, p99 %llu us\n", s->name,
	       (unsigned long long)s->late_ns[s->n / 2] / 1000,
	       (unsigned long long)s->late_ns[s->n * 99 / 100] / 1000);
	fflush(stdout);
	return NULL;
}

static void run(struct sleeper *s)
{
	pthread_t t;

	pthread_create(&t, NULL, sleep_and_measure, s);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	int hogs = argc > 1 ? atoi(argv[1]) : 4, n = argc > 2 ? atoi(argv[2]) : 300, i;
	__u64 *late = calloc(n > 0 ? n : 1, sizeof(*late));
	struct sleeper critical = { "latency-critical", -10, n, late };
	struct sleeper plain = { "unhinted", 0, n, late };
	pthread_t *t = calloc(hogs > 0 ? hogs : 1, sizeof(*t));

	if (hogs < 0 || n < 1 || !late || !t || tld_init(NULL)) {
		fprintf(stderr, "usage: latwork [HOGS [SLEEPS]] (and a tld map: tldtool map create)\n");
		return 2;
	}
	for (i = 0; i < hogs; i++)
		pthread_create(&t[i], NULL, hog, NULL);
	printf("%d batch hogs, sleepers waking every 1 ms, %d times each\n", hogs, n);
	run(&critical);
	run(&plain);
	stop = 1;
	for (i = 0; i < hogs; i++)
		pthread_join(t[i], NULL);
	free(t);
	free(late);
	return 0;
}
