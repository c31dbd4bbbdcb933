// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 5, libtld's side: resident bytes per registered thread at 1,000
 * and 10,000 threads, over a bare thread's. Each thread uses one 8-byte
 * hint. bench/upstream.c measures the upstream header the same way. With
 * TLD_COMPACT set, the rows are the compact layout's.
 */
#include <stdlib.h>
#include <tld/tld.h>

#include "stats.h"
#include "threads.h"

TLD_DEFINE_KEY(hint_key, "bench.hint", sizeof(__u64));

static void use_tld(void)
{
	__u64 *p = tld_get_data(hint_key);

	if (p)
		*p = 1;
}

int main(void)
{
	bench_report_rss(getenv("TLD_COMPACT") ? "memory.tld_compact_rss" : "memory.tld_rss",
			 use_tld);
	return 0;
}
