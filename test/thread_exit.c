// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread exit cleans up by itself: 10,000 threads register, store, and
 * exit, 16 at a time. Afterwards the map holds as many entries as before
 * (the kernel deletes an exited thread's entry), and the process did not
 * grow: VmData (the heap) is as it was, and libtld's store maps one chunk
 * (1 MiB) with at most the 16 threads' pages, 16 populated ahead and the
 * meta page in memory. What a late BPF store through an exiting thread's
 * entry does is test/late_store's. Run under ASan and under valgrind too
 * (run.sh); there the VmData check, which would measure the tool, is left
 * out: valgrind's own leak and access checks take its place.
 *
 * Checked to fail (make mutate): with exiting threads' slots not given
 * back, the store grows to 40 MiB.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BATCH		16

/* ASan's quarantine and thread registry grow VmData; the bound is for plain builds. */
#ifdef __SANITIZE_ADDRESS__
#define CHECK_GROWTH	false
#else
#define CHECK_GROWTH	true
#endif

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static void *worker(void *arg)
{
	__u64 *p = tld_get_data(static_key);

	if (TH_CHECK(p, "thread %u has no data", th_gettid()))
		*p = th_gettid();
	return arg;
}

static long vm_data_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmData:", 7))
			kb = atol(line + 7);
	if (f)
		fclose(f);
	return kb;
}

/* @n threads, BATCH at a time; returns how many ran. */
static int cycles(int n)
{
	pthread_t t[BATCH];
	int i, j;

	for (i = 0; i < n; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			pthread_create(&t[j], NULL, worker, NULL);
		for (j = 0; j < BATCH; j++)
			pthread_join(t[j], NULL);
	}
	return i;
}

int main(void)
{
	int n = getenv("TH_CYCLES") ? atoi(getenv("TH_CYCLES")) : 10000;
	bool growth = CHECK_GROWTH && !getenv("TH_VALGRIND");
	struct th_map map;
	long before, after;
	int base, ran;

	th_map_create(&map, NULL);
	base = th_map_entries(&map);
	ran = cycles(n / 10);
	before = vm_data_kb();
	ran += cycles(n - n / 10);
	after = vm_data_kb();
	th_map_entries_wait(&map, base);
	TH_CHECK(!growth || after - before < 2048, "VmData grew by %ld kB over %d threads",
		 after - before, ran);
	TH_CHECK(th_store_kb("Size") <= 1024, "the store maps %ld kB after %d threads",
		 th_store_kb("Size"), ran);
	TH_CHECK(th_store_kb("Rss") <= (BATCH + 16 + 1) * 4, "the store holds %ld kB after %d threads",
		 th_store_kb("Rss"), ran);
	printf("%d threads, %d map entries left, VmData %+ld kB, store %ld kB mapped, %ld kB held\n",
	       ran, th_map_entries(&map) - base, after - before, th_store_kb("Size"),
	       th_store_kb("Rss"));
	th_map_remove(&map);
	th_done();
}
