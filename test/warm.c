// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pages populated ahead. With only the main thread registered, the store
 * holds its page and the meta page, no spares. Then NTHREADS threads, one
 * after another, each
 * registers and stores, and counts the page faults its first
 * tld_get_data() and store took (getrusage(RUSAGE_THREAD), its stack
 * touched beforehand). One madvise(MADV_POPULATE_WRITE) fills the next
 * TLD_WARM_PAGES (16) pages, so at most one thread in 16 may fault; the
 * others take none. The 16th thread takes the last page populated ahead,
 * and its exit populates the next 16: the store then holds the meta page,
 * the main thread's page and exactly those 16 (its mapping's Rss in
 * /proc/self/smaps). At the end it holds at most as many; after
 * tld_fini(), nothing, even once two threads registered before it have
 * exited since (an exit then populates nothing).
 *
 * Under ASan the count is printed, not checked: its shadow memory faults.
 *
 * Checked to fail (make mutate): with nothing populated ahead, every
 * thread faults; with nothing populated at exit, the store holds 2 pages
 * after the 16th thread. With exits populating after tld_fini(), as the
 * first version did (found by review), it holds 16 pages at the end; the
 * store now checks twice (before it populates, and after, for a
 * tld_fini() meanwhile), so no single mutation brings that back.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "harness.h"

#define NTHREADS	64
#define WARM_PAGES	16
#define STACK_TOUCH	(64 * 1024)

#ifdef __SANITIZE_ADDRESS__
#define CHECK_FAULTS	false
#else
#define CHECK_FAULTS	true
#endif

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static long minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		th_fatal("getrusage: %m");
	return ru.ru_minflt;
}

static void *first_use(void *arg)
{
	volatile char stack[STACK_TOUCH];
	long before;
	__u64 *p;

	memset((char *)stack, 1, sizeof(stack));
	before = minflt();
	p = tld_get_data(static_key);
	if (p)
		*p = 1;
	*(long *)arg = p ? minflt() - before : -1;
	return NULL;
}

int main(void)
{
	long faults[NTHREADS], rss;
	int i, faulted = 0;
	struct th_held held[2];
	struct th_map map;
	pthread_t t;

	th_map_create(&map, NULL);
	if (!tld_get_data(static_key))
		th_fatal("the main thread has no data");
	TH_CHECK(th_store_kb("Rss") <= 2 * TLD_PAGE_SIZE / 1024,
		 "the store holds %ld kB with one thread registered", th_store_kb("Rss"));
	for (i = 0; i < NTHREADS; i++) {
		pthread_create(&t, NULL, first_use, &faults[i]);
		pthread_join(t, NULL);
		if (faults[i] < 0)
			th_fatal("thread %d has no data", i);
		faulted += faults[i] > 0;
		rss = th_store_kb("Rss");
		TH_CHECK(i + 1 != WARM_PAGES || rss == (2 + WARM_PAGES) * TLD_PAGE_SIZE / 1024,
			 "the store holds %ld kB after thread %d: its exit did not populate the next %d pages",
			 rss, i + 1, WARM_PAGES);
	}
	printf("%d of %d threads faulted in their first use\n", faulted, NTHREADS);
	TH_CHECK(!CHECK_FAULTS || faulted <= NTHREADS / WARM_PAGES + 1,
		 "%d of %d threads faulted in their first use: pages are not populated ahead",
		 faulted, NTHREADS);
	rss = th_store_kb("Rss");
	TH_CHECK(rss <= (2 + WARM_PAGES) * TLD_PAGE_SIZE / 1024,
		 "the store holds %ld kB, over 2 pages and %d populated ahead", rss, WARM_PAGES);
	for (i = 0; i < 2; i++)
		th_held_start(&held[i]);
	tld_fini();
	for (i = 0; i < 2; i++)
		th_held_end(&held[i]);
	TH_CHECK(th_store_kb("Rss") == 0,
		 "the store holds %ld kB after tld_fini() and two threads' exits",
		 th_store_kb("Rss"));
	th_map_remove(&map);
	th_done();
}
