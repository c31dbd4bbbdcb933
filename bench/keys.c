// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 4: 64 threads released at once each create the same 63 keys, in
 * different orders, so that every name is created by one and re-created by
 * the rest while slots are being claimed. Per run: the total time and the
 * p99 of one call. Every thread must get the same key for a name, and no
 * call may fail. A fresh process per run: keys cannot be deleted.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tld/tld.h>

#include "stats.h"

#define THREADS		64
#define KEYS		63

struct run {
	double total_us, p99_us;
	int wrong;
};

static pthread_barrier_t go;
static tld_key_t got[THREADS][KEYS];
static double call_us[THREADS * KEYS];

static void *creator(void *arg)
{
	long t = (long)arg;
	char name[8];
	double t0;
	int i, k;

	pthread_barrier_wait(&go);
	for (i = 0; i < KEYS; i++) {
		k = (i + t) % KEYS;
		snprintf(name, sizeof(name), "k%02d", k);
		t0 = bench_now_ns();
		got[t][k] = tld_create_key(name, 8);
		call_us[t * KEYS + i] = (bench_now_ns() - t0) / 1000;
	}
	return NULL;
}

static void child(struct run *out)
{
	pthread_t t[THREADS];
	double t0;
	long i;
	int k;

	pthread_barrier_init(&go, NULL, THREADS + 1);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, creator, (void *)i);
	t0 = bench_now_ns();
	pthread_barrier_wait(&go);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	out->total_us = (bench_now_ns() - t0) / 1000;
	out->p99_us = bench_percentile(call_us, THREADS * KEYS, 99);
	for (i = 0; i < THREADS; i++)
		for (k = 0; k < KEYS; k++)
			out->wrong += tld_key_err(got[i][k]) || got[i][k].raw != got[0][k].raw;
}

int main(void)
{
	struct run *runs = mmap(NULL, sizeof(*runs) * BENCH_REPS, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double total[BENCH_REPS], p99[BENCH_REPS];
	int r, wrong = 0;
	pid_t pid;

	for (r = 0; r < BENCH_REPS; r++) {
		pid = fork();
		if (pid == 0) {
			child(&runs[r]);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		total[r] = runs[r].total_us;
		p99[r] = runs[r].p99_us;
		wrong += runs[r].wrong;
	}
	bench_report("keys.total", total, BENCH_REPS, "us");
	bench_report("keys.call_p99", p99, BENCH_REPS, "us");
	printf("keys.wrong %d %d %d keys\n", wrong, wrong, wrong);
	return 0;
}
