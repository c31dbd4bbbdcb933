// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * 16 threads create the same 40 keys at once, each in its own order, while
 * another thread makes BPF read the meta page as fast as it can. Every
 * thread must get the same key for a name, keys must not overlap, all 40
 * must be published, and BPF must never see a covered entry that is not
 * complete (upstream bumps cnt before it writes the name).
 *
 * Sampling alone would almost never catch the upstream bug (the window is a
 * few stores), so a uprobe on libtld's entry write also checks, at every
 * write, that cnt does not cover an incomplete entry.
 *
 * Checked to fail (make mutate): moving the CAS in tld_meta_publish() above
 * tld_entry_write() makes the probe count a torn entry per key.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define NTHREADS	16
#define NKEYS		40
#define ROUNDS		8

static struct reader_bpf *reader;
static pthread_barrier_t start;
static tld_key_t got[NTHREADS][NKEYS];
static volatile bool creating;
static pid_t sampler_tid;

static size_t key_size(int i)
{
	return 8 * (1 + i % 4);
}

static void *creator(void *arg)
{
	long t = (long)arg;
	char name[16];
	int n, i;

	tld_thread_init();
	pthread_barrier_wait(&start);
	for (n = 0; n < NKEYS; n++) {
		i = (t * 7 + n * (t % 2 ? 1 : NKEYS - 1)) % NKEYS;
		snprintf(name, sizeof(name), "c%02d", i);
		got[t][i] = tld_create_key(name, key_size(i));
	}
	return NULL;
}

static void *sampler(void *arg)
{
	unsigned long *marks = arg;

	tld_thread_init();
	sampler_tid = th_gettid();
	pthread_barrier_wait(&start);
	while (creating) {
		th_mark(0);
		(*marks)++;
	}
	th_mark(0);
	return NULL;
}

static int by_raw(const void *a, const void *b)
{
	return ((const tld_key_t *)a)->raw - ((const tld_key_t *)b)->raw;
}

static void check_keys(void)
{
	tld_key_t sorted[NKEYS];
	int t, i;

	for (i = 0; i < NKEYS; i++) {
		TH_CHECK(!tld_key_err(got[0][i]), "c%02d: %d", i, tld_key_err(got[0][i]));
		for (t = 1; t < NTHREADS; t++)
			TH_CHECK(got[t][i].raw == got[0][i].raw, "c%02d: thread %d got %d, thread 0 %d",
				 i, t, got[t][i].raw, got[0][i].raw);
		sorted[i] = got[0][i];
	}
	qsort(sorted, NKEYS, sizeof(sorted[0]), by_raw);
	for (i = 1; i < NKEYS; i++)
		TH_CHECK(sorted[i].raw - sorted[i - 1].raw >= 8, "keys overlap at raw %d", sorted[i].raw);
}

/* One process per round: keys are process-wide and never go away. */
static void round_main(void)
{
	pthread_t creators[NTHREADS], samp;
	unsigned long marks = 0;
	struct th_publish pub;
	struct th_result r;
	long t;

	reader = th_reader_load();
	th_reader_watch_publish(reader);
	pthread_barrier_init(&start, NULL, NTHREADS + 1);
	creating = true;
	pthread_create(&samp, NULL, sampler, &marks);
	for (t = 0; t < NTHREADS; t++)
		pthread_create(&creators[t], NULL, creator, (void *)t);
	for (t = 0; t < NTHREADS; t++)
		pthread_join(creators[t], NULL);
	creating = false;
	pthread_join(samp, NULL);

	check_keys();
	TH_CHECK(th_result(reader, sampler_tid, &r), "the sampler saw nothing");
	TH_CHECK(r.meta_cnt == NKEYS, "%u entries published, want %d", r.meta_cnt, NKEYS);
	TH_CHECK(r.torn == 0, "BPF saw %u torn entries in %u reads", r.torn, r.hits);
	th_reader_publish(reader, &pub);
	TH_CHECK(pub.writes >= NKEYS, "the probe saw %llu entry writes", pub.writes);
	TH_CHECK(pub.torn == 0, "%llu covered entries were incomplete at an entry write", pub.torn);
	printf("%lu BPF reads during creation, %u torn; %llu entry writes, %llu torn\n",
	       marks, r.torn, pub.writes, pub.torn);
	th_reader_destroy(reader);
}

int main(int argc, char **argv __attribute__((unused)))
{
	struct th_map map;
	char cmd[512];
	int i, st;

	if (argc > 1) {
		round_main();
		th_done();
	}
	th_map_create(&map, NULL);
	for (i = 0; i < ROUNDS; i++) {
		snprintf(cmd, sizeof(cmd), "%s round", th_exe());
		st = system(cmd);
		TH_CHECK(st == 0, "round %d failed", i);
	}
	th_map_remove(&map);
	th_done();
}
