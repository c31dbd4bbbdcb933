// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Wire compatibility: a BPF reader built against the upstream selftests'
 * task_local_data.bpf.h (test/bpf/compat.bpf.c), reusing tld's pinned map,
 * reads what libtld publishes from many threads: a static key, dynamic
 * keys, a 32-byte struct, and a key created after that reader had already
 * looked for it and cached "not there".
 *
 * Checked to fail (make mutate): with start written as TLD_DATA_HDR + 8,
 * the upstream reader (which trusts start) reads the neighbouring bytes.
 */
#include <pthread.h>
#include <string.h>
#include <tld/loader.h>

#include "compat.skel.h"
#include "harness.h"

#define NTHREADS	8

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct compat_bpf *skel;
static tld_key_t dyn_key, blob_key;
static pthread_barrier_t first_read;

static bool result(pid_t tid, struct th_compat_result *r)
{
	__u32 key = tid;

	return !bpf_map__lookup_elem(skel->maps.compat_results, &key, sizeof(key), r,
				     sizeof(*r), 0);
}

static void *worker(void *arg)
{
	__u64 base = (long)arg * 100, *blob, *late;
	struct th_compat_result r;
	pid_t tid = th_gettid();
	tld_key_t late_key;

	*(__u64 *)tld_get_data(static_key) = base + 1;
	*(__u64 *)tld_get_data(dyn_key) = base + 2;
	blob = tld_get_data(blob_key);
	blob[0] = base + 3;
	blob[3] = base + 4;
	th_mark(0);
	if (TH_CHECK(result(tid, &r), "the upstream reader saw nothing for %d", tid)) {
		TH_CHECK(r.init_err == 0 && (r.found & 7) == 7, "%d: err %d found %x", tid,
			 r.init_err, r.found);
		TH_CHECK(r.value_static == base + 1 && r.value_dyn == base + 2,
			 "%d: %llu %llu", tid, r.value_static, r.value_dyn);
		TH_CHECK(r.blob_first == base + 3 && r.blob_last == base + 4,
			 "%d: blob %llu..%llu", tid, r.blob_first, r.blob_last);
		TH_CHECK(!(r.found & 8), "%d: a key that does not exist yet was found", tid);
	}
	pthread_barrier_wait(&first_read);

	/* Created now: the reader's cached "seen" count must not hide it. */
	late_key = tld_create_key("compat.late", sizeof(__u64));
	late = tld_get_data(late_key);
	*late = base + 5;
	th_mark(0);
	if (TH_CHECK(result(tid, &r), "no second read for %d", tid))
		TH_CHECK((r.found & 8) && r.value_late == base + 5, "%d: late key %x %llu",
			 tid, r.found, r.value_late);
	return NULL;
}

int main(void)
{
	pthread_t threads[NTHREADS];
	struct th_map map;
	long i;
	int err;

	th_map_create(&map, NULL);
	dyn_key = tld_create_key("test.dyn", sizeof(__u64));
	blob_key = tld_create_key("test.blob", 32);
	skel = compat_bpf__open();
	if (!skel)
		th_fatal("open: %m");
	err = tld_loader_load_skeleton(skel->skeleton, NULL);
	if (err)
		th_fatal("load the upstream-header reader: %s", strerror(-err));
	th_ack_watch(skel->bss->th_acks);

	pthread_barrier_init(&first_read, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(i + 1));
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);

	th_ack_unwatch(skel->bss->th_acks);
	compat_bpf__destroy(skel);
	th_map_remove(&map);
	th_done();
}
