// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tld.hpp from C++: tld::var<T> values that BPF reads, and what a var
 * whose key cannot be made does, with exceptions (built by g++ as
 * test/cxx) and without (built by clang++ -fno-exceptions as
 * test/cxx_noexcept).
 *
 * Checked to fail: with var::get() offset by 8 bytes, BPF reads 0 for both
 * values; with missing() returning nullptr, the no-exceptions build
 * crashes on the failed key's write.
 */
#include <cstdint>
#include <thread>
#include <tld/tld.hpp>

#include "harness.h"

struct blob {
	std::uint64_t w[4];
};

static tld::var<std::uint64_t> hint("test.static");
static tld::var<blob> big("test.blob");
/* The name of an 8-byte key with another size: its creation fails. */
static tld::var<std::uint32_t> clash("test.static");

static void writer(struct reader_bpf *reader)
{
	struct th_result r;
	pid_t tid = th_gettid();

	hint = 4242;
	big->w[3] = 99;
	(*big).w[0] = 7;
	TH_CHECK(hint.get() == tld_get_data(hint.key()), "get() is not tld_get_data()");
	th_mark(0);
	TH_CHECK(th_result(reader, tid, &r) && r.head[TH_STATIC] == 4242 &&
		 r.head[TH_BLOB] == 7 && r.tail[TH_BLOB] == 99,
		 "BPF read %llu, %llu..%llu", (unsigned long long)r.head[TH_STATIC],
		 (unsigned long long)r.head[TH_BLOB], (unsigned long long)r.tail[TH_BLOB]);
}

/* A failed key: no value, an error that says why, and BPF's value untouched. */
static void failed_key(struct reader_bpf *reader)
{
	struct th_result r;
	int caught = 0;

	TH_CHECK(clash.err() == -EEXIST, "clash: err %d", clash.err());
	TH_CHECK(!clash.get(), "clash: a value for a failed key");
#if defined(__cpp_exceptions)
	try {
		clash = 5;
	} catch (const tld::error &e) {
		caught = e.errno_value();
	}
	TH_CHECK(caught == -EEXIST, "clash: caught %d", caught);
#else
	clash = 5;
	*clash = 6;
	TH_CHECK(!caught, "no exceptions");
#endif
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r) && r.head[TH_STATIC] == 4242,
		 "the failed key's write reached BPF: %llu", (unsigned long long)r.head[TH_STATIC]);
}

int main()
{
	struct th_map map;
	struct reader_bpf *reader;

	th_map_create(&map, "");
	reader = th_reader_load();
	TH_CHECK(!hint.err() && !big.err(), "keys: %d %d", hint.err(), big.err());
	std::thread t([reader] {
		writer(reader);
		failed_key(reader);
	});
	t.join();
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
