// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * 32 threads publish distinct values in a static and two dynamic keys with
 * plain stores; BPF, triggered from each thread, must read exactly those
 * values, and then the values each thread stores next.
 *
 * Checked to fail (make mutate): with the thread's base pointer one byte
 * off, every value read is wrong.
 */
#include <pthread.h>
#include <string.h>

#include "harness.h"

#define NTHREADS	32

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

struct blob {
	__u64 a, b, c, d;
};

static tld_key_t dyn_key, blob_key;
static struct reader_bpf *reader;
static pthread_barrier_t barrier;

static void publish(__u64 base)
{
	__u64 *s = tld_get_data(static_key), *d = tld_get_data(dyn_key);
	struct blob *b = tld_get_data(blob_key);

	if (!TH_CHECK(s && d && b, "thread %d has no data", th_gettid()))
		return;
	*s = base + 1;
	*d = base + 2;
	*b = (struct blob){ base + 3, base + 4, base + 5, base + 6 };
}

static void expect(pid_t tid, __u64 base)
{
	struct th_result r;

	if (!TH_CHECK(th_result(reader, tid, &r), "BPF saw nothing for thread %d", tid))
		return;
	TH_CHECK(r.init_err == 0, "thread %d: tld_object_init %d", tid, r.init_err);
	TH_CHECK(r.head[TH_STATIC] == base + 1, "thread %d static %llu", tid, r.head[TH_STATIC]);
	TH_CHECK(r.head[TH_DYN] == base + 2, "thread %d dyn %llu", tid, r.head[TH_DYN]);
	TH_CHECK(r.head[TH_BLOB] == base + 3 && r.tail[TH_BLOB] == base + 6,
		 "thread %d blob %llu..%llu", tid, r.head[TH_BLOB], r.tail[TH_BLOB]);
	TH_CHECK(r.off[TH_K00] == -1, "thread %d: absent key found at %d", tid, r.off[TH_K00]);
}

static void *worker(void *arg)
{
	pid_t tid = th_gettid();
	__u64 base = (__u64)tid * 1000;

	(void)arg;
	publish(base);
	th_mark(0);
	expect(tid, base);
	/* A second store, no syscall in between: BPF reads the new value. */
	publish(base + 100);
	th_mark(0);
	expect(tid, base + 100);
	pthread_barrier_wait(&barrier);
	return NULL;
}

int main(void)
{
	pthread_t threads[NTHREADS];
	struct th_map map;
	int i;

	th_map_create(&map, NULL);
	TH_CHECK(!tld_key_err(static_key), "static key: %d", tld_key_err(static_key));
	dyn_key = tld_create_key("test.dyn", sizeof(__u64));
	blob_key = tld_create_key("test.blob", sizeof(struct blob));
	TH_CHECK(!tld_key_err(dyn_key) && !tld_key_err(blob_key), "dynamic keys");
	reader = th_reader_load();

	pthread_barrier_init(&barrier, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);

	/* The main thread too, and it reads 8-byte aligned pointers. */
	publish(7000000);
	TH_CHECK(((unsigned long)tld_get_data(blob_key) & 7) == 0, "alignment");
	th_mark(0);
	expect(th_gettid(), 7000000);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
