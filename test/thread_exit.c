// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread exit cleans up by itself: 10,000 threads register, store, and
 * exit, 16 at a time. Every thread's page is given back (punched) as it
 * exits, the map soon holds as many entries as before (the kernel frees
 * an exited thread's entry with it), and the process did not grow. What
 * a late BPF store through a left entry does is test/late_store's. Run
 * under ASan and under valgrind too (run.sh); under valgrind (TH_VALGRIND
 * set) the BPF watcher, loaded through libbpf, and the growth check, which
 * would measure valgrind, are left out: its own leak and access checks
 * take their place.
 *
 * Checked to fail (make mutate): with exiting threads' pages not given
 * back, the watcher counts none punched and VmData grows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

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

	watch = unmap_bpf__open_and_load();
	err = watch ? unmap_bpf__attach(watch) : -1;
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

	th_map_entries_wait(&map, base);
	printf("%d threads, %d map entries left\n", ran, th_map_entries(&map) - base);
	if (watch) {
		misses = recursion_misses(bpf_program__fd(watch->progs.unmap_sys_enter));
		TH_CHECK(watch->bss->unmapped + misses >= (__u64)ran,
			 "%llu of %d pages seen given back (%llu runs skipped)", watch->bss->unmapped, ran,
			 misses);
		TH_CHECK(!CHECK_GROWTH || after - before < 2048, "VmData grew by %ld kB over %d threads",
			 after - before, ran);
		printf("%llu pages given back, VmData %+ld kB\n", watch->bss->unmapped,
		       after - before);
		unmap_bpf__destroy(watch);
	}
	th_map_remove(&map);
	th_done();
}
