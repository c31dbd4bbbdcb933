// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * BPF reads another task's data: the main thread asks BPF to read thread
 * A's values (A does not trigger anything), and a thread that never
 * registered has no data.
 *
 * Checked to fail (make mutate): with tld_object_init() reading current
 * instead of @task, the result for A is the caller's.
 */
#include <pthread.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static pthread_barrier_t ready, checked;
static pid_t tid_a, tid_b;

static void *thread_a(void *arg)
{
	(void)arg;
	tid_a = th_gettid();
	*(__u64 *)tld_get_data(static_key) = 4242;
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&checked);
	return NULL;
}

static void *thread_b(void *arg)
{
	(void)arg;
	tid_b = th_gettid();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&checked);
	return NULL;
}

int main(void)
{
	struct reader_bpf *reader;
	pthread_t a, b;
	struct th_result r;
	struct th_map map;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	pthread_barrier_init(&ready, NULL, 3);
	pthread_barrier_init(&checked, NULL, 3);
	pthread_create(&a, NULL, thread_a, NULL);
	pthread_create(&b, NULL, thread_b, NULL);
	pthread_barrier_wait(&ready);

	th_mark(tid_a);
	TH_CHECK(th_result(reader, tid_a, &r), "BPF did not read thread A");
	TH_CHECK(r.init_err == 0 && r.head[TH_STATIC] == 4242, "A: err %d value %llu",
		 r.init_err, r.head[TH_STATIC]);
	th_mark(tid_b);
	TH_CHECK(th_result(reader, tid_b, &r), "BPF did not read thread B");
	TH_CHECK(r.init_err == -61, "B: err %d, want -ENODATA", r.init_err);
	TH_CHECK(!th_result(reader, th_gettid(), &r), "the caller was read instead");

	pthread_barrier_wait(&checked);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
