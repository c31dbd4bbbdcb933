// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hintstat: run a command whose threads publish hints with libtld; from
 * BPF, charge CPU time and run-queue wait (wakeup to switch-in) to their
 * hints; then print what BPF saw next to what each thread says it wrote.
 *
 *	hintstat [--map PATH] -- COMMAND [ARGS...]
 *
 * COMMAND reports each thread as "wrote tid=TID class=CLASS requests=N".
 * Exits 0 when BPF saw every thread with the class it wrote, and saw the
 * latency and normal threads woken at least once per 10/9 requests (each
 * of their requests ends in a sleep).
 */
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "hints.h"
#include "../consumer.h"
#include "hintstat.skel.h"

#define MAX_THREADS	1024

struct wrote {
	int tid;
	char class[16];
	unsigned long long requests;
};

static struct wrote wrote[MAX_THREADS];
static int nwrote;

/* The workload's other lines are passed on. */
static void hintstat_line(const char *line)
{
	struct wrote *w = &wrote[nwrote];

	if (nwrote < MAX_THREADS &&
	    sscanf(line, "wrote tid=%d class=%15s requests=%llu", &w->tid, w->class,
		   &w->requests) == 3)
		nwrote++;
	else
		fputs(line, stdout);
}

/* The upper bound of the bucket holding quantile @q, in microseconds. */
static double wait_quantile_us(const struct hint_waits *w, double q)
{
	__u64 seen = 0;
	int b;

	for (b = 0; b < HINT_WAIT_BUCKETS; b++) {
		seen += w->bucket[b];
		if (seen && seen >= q * w->count)
			return (double)(2ull << b) / 1e3;
	}
	return 0;
}

static void report_classes(struct hintstat_bpf *skel)
{
	__u64 total = 0, *ns = skel->bss->class_ns;
	const struct hint_waits *w;
	int i;

	for (i = 0; i <= HINT_NONE; i++)
		total += ns[i];
	printf("\nPer hint class, as BPF measured it (all tld threads on this machine):\n");
	printf("  %-8s %10s %6s %9s %12s %10s %10s\n", "class", "CPU ms", "CPU%", "wakeups",
	       "wait mean", "wait p50", "wait p99");
	for (i = 0; i <= HINT_NONE; i++) {
		w = &skel->bss->class_waits[i];
		printf("  %-8s %10.1f %5.1f%% %9llu", hint_class_name(i), ns[i] / 1e6,
		       total ? 100.0 * ns[i] / total : 0, (unsigned long long)w->count);
		if (w->count)
			printf(" %9.1f us  <=%6.0f us  <=%6.0f us\n", w->sum_ns / 1e3 / w->count,
			       wait_quantile_us(w, 0.5), wait_quantile_us(w, 0.99));
		else
			printf(" %12s %10s %10s\n", "-", "-", "-");
	}
}

/* Whether BPF saw thread @w with its class, and woken as often as it slept. */
static bool thread_ok(const struct wrote *w, const struct hint_thread *t)
{
	bool sleeps = strcmp(w->class, "batch");

	return !strcmp(w->class, hint_class_name(t->class)) &&
	       (!sleeps || t->wakeups * 10 >= w->requests * 9);
}

static int hintstat_report(void *arg)
{
	struct hintstat_bpf *skel = arg;
	int fd = bpf_map__fd(skel->maps.threads), i, ok = 0;
	const struct wrote *w;
	struct hint_thread t;
	__u32 tid;

	printf("%-8s %-9s %-9s %10s %10s %8s %8s %9s\n", "tid", "wrote", "BPF saw", "requests",
	       "BPF req", "CPU ms", "wakeups", "wait us");
	for (i = 0; i < nwrote; i++) {
		w = &wrote[i];
		tid = w->tid;
		if (bpf_map_lookup_elem(fd, &tid, &t)) {
			printf("%-8d %-9s %-9s %10llu %10s\n", tid, w->class, "-", w->requests, "-");
			continue;
		}
		ok += thread_ok(w, &t);
		printf("%-8d %-9s %-9s %10llu %10llu %8.1f %8llu %9.1f\n", tid, w->class,
		       hint_class_name(t.class), w->requests, (unsigned long long)t.request,
		       t.cpu_ns / 1e6, (unsigned long long)t.wakeups,
		       t.wakeups ? t.wait_ns / 1e3 / t.wakeups : 0);
	}
	report_classes(skel);
	printf("\nBPF saw each thread's class, and its wakeups: %d of %d threads\n", ok, nwrote);
	return ok == nwrote && nwrote > 0 ? 0 : 1;
}

static const struct consumer hintstat = {
	.line = hintstat_line,
	.report = hintstat_report,
};

CONSUMER_MAIN(hintstat, &hintstat)
