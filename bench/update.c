// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 1: what publishing one hint costs a thread, ns per update.
 *
 *	plain     a __thread store: the physical limit
 *	cached    a store through the pointer tld_get_data() returned once
 *	get       tld_get_data(key), then the store, every time
 *	map_task  bpf(BPF_MAP_UPDATE_ELEM) on a task-storage map, by pidfd
 *	map_pid   the same on a hash map keyed by tid (scx_layered's way)
 *	prctl     prctl(PR_SET_NAME), the other channel schedulers read
 *
 * Stores go through volatile lvalues so that each iteration stores. The
 * upstream header's tld_get_data() is measured by bench/upstream.c, apart,
 * because its names collide with libtld's.
 */
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <tld/tld.h>

#include "stats.h"

#define FAST_OPS	20000000
#define SLOW_OPS	200000

TLD_DEFINE_KEY(hint_key, "bench.hint", sizeof(__u64));

static __thread volatile __u64 plain_hint;

static double plain(void)
{
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < FAST_OPS; i++)
		plain_hint = i;
	return (bench_now_ns() - t0) / FAST_OPS;
}

static double cached(void)
{
	volatile __u64 *p = tld_get_data(hint_key);
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < FAST_OPS; i++)
		*p = i;
	return (bench_now_ns() - t0) / FAST_OPS;
}

static double get(void)
{
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < FAST_OPS; i++)
		*(volatile __u64 *)tld_get_data(hint_key) = i;
	return (bench_now_ns() - t0) / FAST_OPS;
}

static double map_update(int fd, int key)
{
	double t0 = bench_now_ns();
	__u64 v;
	long i;

	for (i = 0; i < SLOW_OPS; i++) {
		v = i;
		bpf_map_update_elem(fd, &key, &v, BPF_ANY);
	}
	return (bench_now_ns() - t0) / SLOW_OPS;
}

static double rename_thread(void)
{
	char name[16];
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < SLOW_OPS; i++) {
		name[0] = 'a' + i % 26;
		strcpy(name + 1, "-bench");
		prctl(PR_SET_NAME, name);
	}
	return (bench_now_ns() - t0) / SLOW_OPS;
}

/* The status quo's maps, with the hint as the value. */
static int pid_hash_map(void)
{
	return bpf_map_create(BPF_MAP_TYPE_HASH, "bench_hint", 4, 8, 65536, NULL);
}

/* Task storage needs BTF for its key and value. */
static int task_storage_map(void)
{
	struct btf *btf = btf__new_empty();
	int int_id, u64_id, fd;

	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u64_id = btf__add_int(btf, "u64", 8, 0);
	if (btf__load_into_kernel(btf)) {
		btf__free(btf);
		return -1;
	}
	LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = btf__fd(btf), .btf_key_type_id = int_id,
		    .btf_value_type_id = u64_id, .map_flags = BPF_F_NO_PREALLOC);
	fd = bpf_map_create(BPF_MAP_TYPE_TASK_STORAGE, "bench_hint", 4, 8, 0, &opts);
	btf__free(btf);
	return fd;
}

int main(void)
{
	double a[BENCH_REPS], b[BENCH_REPS], c[BENCH_REPS], e[BENCH_REPS], h[BENCH_REPS],
		f[BENCH_REPS];
	int task_map = task_storage_map(), pid_map = pid_hash_map();
	int pidfd = syscall(SYS_pidfd_open, gettid(), 0);
	int r;

	if (!tld_get_data(hint_key) || task_map < 0 || pid_map < 0 || pidfd < 0) {
		fprintf(stderr, "update: no tld data, or cannot create the status quo's maps\n");
		return 1;
	}
	for (r = 0; r < BENCH_REPS; r++) {
		a[r] = plain();
		b[r] = cached();
		c[r] = get();
		e[r] = map_update(task_map, pidfd);
		h[r] = map_update(pid_map, gettid());
		f[r] = rename_thread();
	}
	bench_report("update.plain", a, BENCH_REPS, "ns");
	bench_report("update.cached", b, BENCH_REPS, "ns");
	bench_report("update.get", c, BENCH_REPS, "ns");
	bench_report("update.map_task", e, BENCH_REPS, "ns");
	bench_report("update.map_pid", h, BENCH_REPS, "ns");
	bench_report("update.prctl", f, BENCH_REPS, "ns");
	return 0;
}
