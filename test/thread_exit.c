// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread exit cleans up by itself: 10,000 threads register, store, and
 * exit, 16 at a time. Afterwards the map holds as many entries as before,
 * no page was unmapped while its entry was still attached (BPF may store
 * into attached pages, so the other order corrupts memory), and the
 * process did not grow. Run under ASan and under valgrind too (run.sh);
 * under valgrind (TH_VALGRIND set) the BPF watcher, loaded through libbpf,
 * and the growth check, which would measure valgrind, are left out: its
 * own leak and access checks take their place.
 *
 * Checked to fail (make mutate): unmapping the page before the entry is
 * deleted in tld_thread_exit() makes the BPF watcher count attached unmaps.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <tld/loader.h>

#include "harness.h"
#include "unmap.skel.h"

#define BATCH		16

/* ASan's quarantine and thread registry grow VmData; the bound is for plain builds. */
#ifdef __SANITIZE_ADDRESS__
#define CHECK_GROWTH	false
#else
#define CHECK_GROWTH	true
#endif

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct unmap_bpf *watch;

static void *worker(void *arg)
{
	__u64 *p = tld_get_data(static_key), page;
	__u32 tid = th_gettid();

	(void)arg;
	if (!TH_CHECK(p, "thread %u has no data", tid))
		return NULL;
	*p = tid;
	page = (unsigned long)p & ~(TLD_PAGE_SIZE - 1ul);
	if (watch)
		bpf_map__update_elem(watch->maps.pages, &tid, sizeof(tid), &page, sizeof(page), 0);
	return NULL;
}

static void watch_unmaps(void)
{
	int err;

	watch = unmap_bpf__open();
	err = watch ? tld_loader_load_skeleton(watch->skeleton, NULL) : -1;
	if (err)
		th_fatal("load the munmap watcher: %d", err);
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

/*
 * Since 6.14 a syscall tracepoint runs BPF preemptibly, and the kernel
 * skips (and counts) a run entered while another task is preempted inside
 * the program on that CPU: munmaps the watcher cannot have seen.
 */
static __u64 recursion_misses(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len))
		th_fatal("prog info: %m");
	return info.recursion_misses;
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
	bool valgrind = getenv("TH_VALGRIND");
	long before, after;
	__u64 misses;
	struct th_map map;
	int base, ran;

	th_map_create(&map, NULL);
	if (!valgrind)
		watch_unmaps();
	base = th_map_entries(&map);

	ran = cycles(n / 10);
	before = vm_data_kb();
	ran += cycles(n - n / 10);
	after = vm_data_kb();

	TH_CHECK(th_map_entries(&map) == base, "%d entries left, %d before", th_map_entries(&map), base);
	printf("%d threads, %d map entries left\n", ran, th_map_entries(&map) - base);
	if (watch) {
		misses = recursion_misses(bpf_program__fd(watch->progs.unmap_sys_enter));
		TH_CHECK(watch->bss->unmapped + misses >= (__u64)ran,
			 "%llu of %d pages seen unmapped (%llu runs skipped)", watch->bss->unmapped, ran,
			 misses);
		TH_CHECK(watch->bss->still_attached == 0, "%llu pages unmapped while attached",
			 watch->bss->still_attached);
		TH_CHECK(!CHECK_GROWTH || after - before < 2048, "VmData grew by %ld kB over %d threads",
			 after - before, ran);
		printf("%llu pages unmapped, %llu while attached, VmData %+ld kB\n",
		       watch->bss->unmapped, watch->bss->still_attached, after - before);
		unmap_bpf__destroy(watch);
	}
	th_map_remove(&map);
	th_done();
}
