// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 5, libtld's side: resident bytes per registered thread at 1,000
 * and 10,000 threads, over a bare thread's. Each thread uses one 8-byte
 * hint. bench/upstream.c measures the upstream header the same way.
 */
#include <tld/tld.h>

#include "stats.h"
#include "threads.h"

#define MEM_REPS	3

TLD_DEFINE_KEY(hint_key, "bench.hint", sizeof(__u64));

static void use_tld(void)
{
	__u64 *p = tld_get_data(hint_key);

	if (p)
		*p = 1;
}

int main(void)
{
	static const int counts[] = { 1000, 10000 };
	double v[MEM_REPS];
	char name[64];
	int i, r;

	for (i = 0; i < 2; i++) {
		for (r = 0; r < MEM_REPS; r++)
			v[r] = bench_rss_per_thread(counts[i], use_tld) -
			       bench_rss_per_thread(counts[i], NULL);
		snprintf(name, sizeof(name), "memory.tld_rss.%d", counts[i]);
		bench_report(name, v, MEM_REPS, "B");
	}
	return 0;
}
