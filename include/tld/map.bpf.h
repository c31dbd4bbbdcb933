/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tld task-storage maps as BPF objects declare them. tldtool creates
 * them from these definitions, and consumers reuse the pinned maps under
 * the same names, so both sides agree on their BTF. Include after
 * vmlinux.h and <bpf/bpf_helpers.h>.
 */
#ifndef TLD_MAP_BPF_H
#define TLD_MAP_BPF_H

#include <tld/abi.h>

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tld_map_value);
} tld_data_map SEC(".maps");

/* What the guard vouched for, per task: see struct tld_verdict. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tld_verdict);
} tld_guard_map SEC(".maps");

/* Whether verdict @g names the entry (@data, @meta, @start) as the kernel holds it. */
static __always_inline bool tld_verdict_names(const struct tld_verdict *g, const void *data,
					       const void *meta, __u16 start)
{
	return g->data == (__u64)data && g->meta == (__u64)meta && g->start == start;
}

/*
 * clang emits the pointee of a __uptr pointer as a forward declaration
 * unless the struct is referenced elsewhere, and the verifier then treats
 * the field as a scalar. This reference makes it emit both in full.
 */
typedef struct tld_uptr_types {
	struct tld_data_u data[0];
	struct tld_meta_u meta[0];
} *tld_uptr_types_t;

static __attribute__((used)) __noinline int tld__btf_anchor(tld_uptr_types_t p)
{
	return p != 0;
}

#endif /* TLD_MAP_BPF_H */
