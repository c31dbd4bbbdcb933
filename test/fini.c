// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tld_fini(): every entry goes, and every later call says so. Threads that
 * registered before may still store through their old pointers (at process
 * exit they are still running): nothing crashes, BPF reads nothing, and
 * they release their pages when they exit.
 *
 * Every thread sees the shutdown: its next tld_get_data() is NULL.
 *
 * Checked to fail (make mutate): with tld_fini() unmapping other threads'
 * pages instead of emptying them, the workers crash; with tld_fini()
 * clearing only its caller's base, the workers still get their pointers.
 */
#include <pthread.h>

#include "harness.h"

#define NTHREADS	2

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static pthread_barrier_t registered, finished;

static void *worker(void *arg)
{
	__u64 *p = tld_get_data(static_key);

	(void)arg;
	*p = 1;
	pthread_barrier_wait(&registered);
	pthread_barrier_wait(&finished);
	*p = 2;
	TH_CHECK(tld_get_data(static_key) == NULL, "thread %d did not see tld_fini()",
		 th_gettid());
	TH_CHECK(tld_thread_status() == -ESHUTDOWN, "status after tld_fini()");
	return NULL;
}

static void *late(void *arg)
{
	(void)arg;
	TH_CHECK(tld_get_data(static_key) == NULL, "a thread registered after tld_fini()");
	TH_CHECK(tld_thread_init() == -ESHUTDOWN, "tld_thread_init after tld_fini()");
	return NULL;
}

int main(void)
{
	pthread_t threads[NTHREADS], t;
	struct reader_bpf *reader;
	struct th_result r = { 0 };
	struct th_map map;
	int i;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	pthread_barrier_init(&registered, NULL, NTHREADS + 1);
	pthread_barrier_init(&finished, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	*(__u64 *)tld_get_data(static_key) = 1;
	pthread_barrier_wait(&registered);
	TH_CHECK(th_map_entries(&map) == NTHREADS + 1, "%d entries", th_map_entries(&map));

	th_capture();
	tld_fini();
	TH_CHECK(th_map_entries(&map) == 0, "%d entries after tld_fini()", th_map_entries(&map));
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r) && r.init_err == -61, "BPF still reads: %d",
		 r.init_err);
	TH_CHECK(tld_get_data(static_key) == NULL, "tld_get_data after tld_fini()");
	TH_CHECK(tld_key_err(tld_create_key("after", 8)) == -ESHUTDOWN &&
		 th_captured("tld_fini() was called"), "tld_create_key after tld_fini()");
	TH_CHECK(tld_refresh() == -ESHUTDOWN, "tld_refresh after tld_fini()");
	TH_CHECK(tld_init(NULL) == -ESHUTDOWN, "tld_init after tld_fini()");
	pthread_create(&t, NULL, late, NULL);
	pthread_join(t, NULL);
	tld_fini();

	pthread_barrier_wait(&finished);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
