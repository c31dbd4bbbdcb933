// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One checked store through C's tld_get_data() and through tld::var: the
 * build compares their code (test/cxx_asm.sh), which must differ only in
 * the key's name.
 */
#include <cstdint>
#include <tld/tld.hpp>

TLD_DEFINE_KEY(key, "asm.c", sizeof(std::uint64_t));
static tld::var<std::uint64_t> var("asm.cxx");

extern "C" void c_get(std::uint64_t v)
{
	std::uint64_t *p = static_cast<std::uint64_t *>(tld_get_data(key));

	if (p)
		*p = v;
}

extern "C" void cxx_get(std::uint64_t v)
{
	if (std::uint64_t *p = var.get())
		*p = v;
}

/* The assignment: the same, its miss going to a cold throw instead. */
extern "C" void cxx_store(std::uint64_t v)
{
	var = v;
}
