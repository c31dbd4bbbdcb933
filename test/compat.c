// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Wire compatibility with both published TLD reader layouts: a BPF reader
 * built against the upstream selftests' task_local_data.bpf.h
 * (test/bpf/compat.bpf.c), and the same reader on the layout of scx's copy
 * (compat_scx: the map value {data, meta}, the data area's start in the
 * data page's first u64), each reusing tld's pinned map, read what libtld
 * publishes from many threads: a static key, dynamic keys, a 32-byte
 * struct, and a key created after the reader had looked for it. Then 40
 * fresh process images: each page's first u64 is the image's cookie, whose
 * low half is the data area's start and whose high half differs.
 *
 * Checked to fail (make mutate): with start written as TLD_DATA_HDR + 8,
 * the upstream reader (which trusts start) reads the neighbouring bytes;
 * with a random cookie in the page's first u64 (as before), the scx-layout
 * reader reads nothing or garbage, and the image check fails.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <tld/loader.h>

#include "compat.skel.h"
#include "compat_scx.skel.h"
#include "harness.h"

#define NTHREADS	8
#define NIMAGES		40

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct compat_bpf *skel;
static struct compat_scx_bpf *scx;
static tld_key_t dyn_key, blob_key;
static pthread_barrier_t first_read;

/* What reader @layout (0 upstream, 1 scx) saw for @tid. */
static bool result(int layout, pid_t tid, struct th_compat_result *r)
{
	struct bpf_map *m = layout ? scx->maps.compat_results : skel->maps.compat_results;
	__u32 key = tid;

	return !bpf_map__lookup_elem(m, &key, sizeof(key), r, sizeof(*r), 0);
}

static const char *const layouts[] = { "upstream", "scx" };

static void check_first(int layout, pid_t tid, __u64 base)
{
	const char *l = layouts[layout];
	struct th_compat_result r;

	if (!TH_CHECK(result(layout, tid, &r), "the %s reader saw nothing for %d", l, tid))
		return;
	TH_CHECK(r.init_err == 0 && (r.found & 7) == 7, "%s %d: err %d found %x", l, tid,
		 r.init_err, r.found);
	TH_CHECK(r.value_static == base + 1 && r.value_dyn == base + 2, "%s %d: %llu %llu", l,
		 tid, r.value_static, r.value_dyn);
	TH_CHECK(r.blob_first == base + 3 && r.blob_last == base + 4, "%s %d: blob %llu..%llu",
		 l, tid, r.blob_first, r.blob_last);
	TH_CHECK(!(r.found & 8), "%s %d: a key that does not exist yet was found", l, tid);
}

static void *worker(void *arg)
{
	__u64 base = (long)arg * 100, *blob, *late;
	struct th_compat_result r;
	pid_t tid = th_gettid();
	tld_key_t late_key;
	int i;

	*(__u64 *)tld_get_data(static_key) = base + 1;
	*(__u64 *)tld_get_data(dyn_key) = base + 2;
	blob = tld_get_data(blob_key);
	blob[0] = base + 3;
	blob[3] = base + 4;
	th_mark(0);
	check_first(0, tid, base);
	check_first(1, tid, base);
	pthread_barrier_wait(&first_read);

	/* Created now: the reader's cached "seen" count must not hide it. */
	late_key = tld_create_key("compat.late", sizeof(__u64));
	late = tld_get_data(late_key);
	*late = base + 5;
	th_mark(0);
	for (i = 0; i < 2; i++)
		if (TH_CHECK(result(i, tid, &r), "no second read by %s for %d", layouts[i], tid))
			TH_CHECK((r.found & 8) && r.value_late == base + 5,
				 "%s %d: late key %x %llu", layouts[i], tid, r.found, r.value_late);
	return NULL;
}

/* Run as "header": print this image's data page header, as libtld wrote it. */
static int print_header(void)
{
	char *v = tld_get_data(static_key);

	if (!v)
		return 1;
	printf("%llx\n", (unsigned long long)*(__u64 *)((unsigned long)v & ~(TLD_PAGE_SIZE - 1ul)));
	return 0;
}

/* Fresh images: the header's low half is the start, its high half differs. */
static void images(void)
{
	__u64 seen[NIMAGES];
	char cmd[PATH_MAX + 16];
	int i, j, same = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s header", th_exe());
	for (i = 0; i < NIMAGES; i++) {
		p = popen(cmd, "r");
		if (!p || fscanf(p, "%llx", (unsigned long long *)&seen[i]) != 1)
			th_fatal("image %d printed no header", i);
		pclose(p);
		TH_CHECK((__u32)seen[i] == TLD_DATA_HDR,
			 "image %d: the page's first u64 %llx does not start with the data area's start",
			 i, (unsigned long long)seen[i]);
		for (j = 0; j < i; j++)
			same += seen[j] >> 32 == seen[i] >> 32;
	}
	TH_CHECK(!same, "%d pairs of %d images had the same cookie", same, NIMAGES);
}

int main(int argc, char **argv)
{
	pthread_t threads[NTHREADS];
	struct th_map map;
	long i;
	int err;

	if (argc == 2 && !strcmp(argv[1], "header"))
		return print_header();
	th_map_create(&map, NULL);
	dyn_key = tld_create_key("test.dyn", sizeof(__u64));
	blob_key = tld_create_key("test.blob", 32);
	skel = compat_bpf__open();
	scx = compat_scx_bpf__open();
	if (!skel || !scx)
		th_fatal("open: %m");
	err = tld_loader_load_skeleton(skel->skeleton, NULL);
	if (err)
		th_fatal("load the upstream-header reader: %s", strerror(-err));
	err = tld_loader_load_skeleton(scx->skeleton, NULL);
	if (err)
		th_fatal("load the scx-layout reader: %s", strerror(-err));
	th_ack_watch(skel->bss->th_acks);
	th_ack_watch(scx->bss->th_acks);

	pthread_barrier_init(&first_read, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, (void *)(i + 1));
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);
	images();

	th_ack_unwatch(scx->bss->th_acks);
	th_ack_unwatch(skel->bss->th_acks);
	compat_scx_bpf__destroy(scx);
	compat_bpf__destroy(skel);
	th_map_remove(&map);
	th_done();
}
