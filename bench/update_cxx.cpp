// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 1, row (c++): a tld::var<T> assignment, every time, to set beside
 * row (c), C's tld_get_data(key) and a store. The same key as bench/update.
 */
#include <cstdint>
#include <tld/tld.hpp>

#include "stats.h"

#define FAST_OPS	20000000

static tld::var<std::uint64_t> hint("bench.hint");

static double assign()
{
	double t0 = bench_now_ns();

	for (long i = 0; i < FAST_OPS; i++) {
		hint = i;
		/* Each store happens, as row (c)'s volatile store does. */
		__asm__ volatile("" ::: "memory");
	}
	return (bench_now_ns() - t0) / FAST_OPS;
}

int main()
{
	double v[BENCH_REPS];

	if (!hint.get()) {
		fprintf(stderr, "update_cxx: no tld data\n");
		return 1;
	}
	for (int r = 0; r < BENCH_REPS; r++)
		v[r] = assign();
	bench_report("update.cxx_var", v, BENCH_REPS, "ns");
	return 0;
}
