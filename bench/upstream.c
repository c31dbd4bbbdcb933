// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel selftests' user-space TLD header, extracted from Debian's
 * linux-source-7.3 at build time, measured as libtld is: group 1's (d),
 * its tld_get_data(map_fd, key) and a store, every time; and group 5, its
 * resident bytes per thread. It uses the same pinned map ($TLD_MAP_PATH).
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What the selftests' environment gives the header. */
static inline pid_t sys_gettid(void)
{
	return syscall(SYS_gettid);
}
#define strscpy(dst, src)	snprintf(dst, sizeof(dst), "%s", src)

#define TLD_FREE_DATA_ON_THREAD_EXIT
#include "task_local_data.h"

#include "stats.h"
#include "threads.h"

#define FAST_OPS	20000000

TLD_DEFINE_KEY(hint_key, "bench.hint", sizeof(__u64));

static int map_fd;

static double get(void)
{
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < FAST_OPS; i++)
		*(volatile __u64 *)tld_get_data(map_fd, hint_key) = i;
	return (bench_now_ns() - t0) / FAST_OPS;
}

static void use_upstream(void)
{
	__u64 *p = tld_get_data(map_fd, hint_key);

	if (p)
		*p = 1;
}

int main(void)
{
	const char *path = getenv("TLD_MAP_PATH");
	double v[BENCH_REPS];
	int r;

	map_fd = path ? bpf_obj_get(path) : -1;
	if (map_fd < 0 || !tld_get_data(map_fd, hint_key)) {
		fprintf(stderr, "upstream: cannot use the map at %s\n", path ? path : "(unset)");
		return 1;
	}
	for (r = 0; r < BENCH_REPS; r++)
		v[r] = get();
	bench_report("update.upstream_get", v, BENCH_REPS, "ns");
	bench_report_rss("memory.upstream_rss", use_upstream);
	return 0;
}
