/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-cgroup hints for BPF programs: a cgroup's effective hint is the one
 * set on it or, failing that, on its nearest ancestor (tld/cgroup.h).
 *
 *	__u64 latency;
 *
 *	if (tld_cgroup_hint_u64(task->cgroups->dfl_cgrp, "latency", &latency) >= 0)
 *		use(latency);
 *
 * Each call reads up to TLD_CGROUP_DEPTH_MAX extended attributes, nearest
 * first: bounded, but not free. A consumer that reads hints at every
 * scheduling event caches them per cgroup (the agent store's cgroup
 * record is a place). Include after vmlinux.h and <bpf/bpf_helpers.h>.
 */
#ifndef TLD_CGROUP_BPF_H
#define TLD_CGROUP_BPF_H

#include <tld/cgroup.h>

#ifndef ENODATA
#define ENODATA		61
#endif
#ifndef EINVAL
#define EINVAL		22
#endif

#ifndef TLD_CGROUP_DEPTH_MAX
#define TLD_CGROUP_DEPTH_MAX	16
#endif

extern int bpf_cgroup_read_xattr(struct cgroup *cgroup, const char *name__str,
				 struct bpf_dynptr *value_p) __weak __ksym;
extern struct cgroup *bpf_cgroup_ancestor(struct cgroup *cgrp, int level) __weak __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __weak __ksym;

/*
 * bpf_cgroup_read_xattr() reads into a dynptr, and a tracing program may
 * point one at map memory only, not its stack. A ring buffer reservation
 * is memory no other program on any CPU can touch meanwhile, whatever
 * preempts or interrupts this one; nothing is ever submitted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} tld_cgroup_scratch SEC(".maps");

/*
 * The effective value of hint @key (a string literal) for @cgrp, as text in
 * @buf of @size bytes, at most TLD_CGROUP_VALUE_MAX (zeroed first, so it
 * ends with a NUL if shorter): the
 * level of the cgroup it came from, or -ENODATA if neither @cgrp nor any
 * of its TLD_CGROUP_DEPTH_MAX - 1 nearest ancestors has it.
 */
#define tld_cgroup_hint(cgrp, key, buf, size)					\
	({									\
		struct cgroup *__c = (cgrp), *__a;				\
		struct bpf_dynptr __d;						\
		int __i, __lvl = __c->level, __ret = -ENODATA, __n;		\
		__u32 __len;							\
										\
		__builtin_memset((buf), 0, (size));				\
		bpf_for(__i, 0, TLD_CGROUP_DEPTH_MAX) {				\
			if (__lvl - __i < 0)					\
				break;						\
			__a = bpf_cgroup_ancestor(__c, __lvl - __i);		\
			if (!__a)						\
				break;						\
			__n = 0;						\
			if (!bpf_ringbuf_reserve_dynptr(&tld_cgroup_scratch,	\
							TLD_CGROUP_VALUE_MAX, 0, &__d)) {	\
				__n = bpf_cgroup_read_xattr(__a, TLD_CGROUP_PREFIX key, &__d);	\
				__len = __n > 0 && __n < (int)(size) ? __n : 0;	\
				/* Hidden from the compiler, so the mask stays for the verifier. */	\
				barrier_var(__len);				\
				__len &= TLD_CGROUP_VALUE_MAX - 1;		\
				if (!__len || bpf_dynptr_read((buf), __len, &__d, 0, 0))	\
					__n = 0;				\
			}							\
			bpf_ringbuf_discard_dynptr(&__d, 0);			\
			bpf_cgroup_release(__a);				\
			if (__n > 0) {						\
				__ret = __lvl - __i;				\
				break;						\
			}							\
		}								\
		__ret;								\
	})

/*
 * The effective value of hint @key as an unsigned decimal number, in *@val:
 * the level it came from, -ENODATA, or -EINVAL if it is not a number.
 */
#define tld_cgroup_hint_u64(cgrp, key, val)					\
	({									\
		char __b[TLD_CGROUP_VALUE_MAX];					\
		int __l = tld_cgroup_hint(cgrp, key, __b, sizeof(__b)), __j;	\
		__u64 __v = 0;							\
										\
		if (__l >= 0) {							\
			bpf_for(__j, 0, 20) {					\
				if (__b[__j] < '0' || __b[__j] > '9')		\
					break;					\
				__v = __v * 10 + (__b[__j] - '0');		\
			}							\
			if (__j == 0)						\
				__l = -EINVAL;					\
			else							\
				*(val) = __v;					\
		}								\
		__l;								\
	})

#endif /* TLD_CGROUP_BPF_H */
