/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every benchmark program shares: a monotonic clock, and one output
 * line per measurement, "name median min max unit", over its repetitions.
 * bench/run.sh turns the lines into tables, ratios and verdicts.
 */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_REPS	7

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @p-th percentile of @n samples, which it sorts. */
static inline double bench_percentile(double *v, int n, int p)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	return v[(n - 1) * p / 100];
}

static inline void bench_report(const char *name, double *v, int n, const char *unit)
{
	double median = bench_percentile(v, n, 50);

	printf("%s %.4g %.4g %.4g %s\n", name, median, v[0], v[n - 1], unit);
	fflush(stdout);
}

#endif
