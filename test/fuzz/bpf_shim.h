/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What tld.bpf.h takes from vmlinux.h and <bpf/bpf_helpers.h>, for user
 * space: so that its reader compiles unchanged for the fuzzer. The two
 * helpers it calls are the fuzzer's.
 */
#ifndef TLD_FUZZ_BPF_SHIM_H
#define TLD_FUZZ_BPF_SHIM_H

#include <linux/types.h>
#include <stdbool.h>
#include <string.h>

#define SEC(name)
#define __uint(name, val)	int (*name)[val]
#define __type(name, val)	typeof(val) *name
#define __noinline		__attribute__((noinline))
#undef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#define barrier_var(var)	asm volatile("" : "+r"(var))
#define bpf_for(i, start, end)	for ((i) = (start); (i) < (end); (i)++)

#define BPF_MAP_TYPE_TASK_STORAGE	29
#define BPF_F_NO_PREALLOC		1
#define BPF_LOCAL_STORAGE_GET_F_CREATE	1

/* The one field tld.bpf.h reads. */
struct task_struct {
	__u64 self_exec_id;
};

void *bpf_task_storage_get(void *map, struct task_struct *task, void *value, __u64 flags);

/* The helper's contract: strncmp(s1, s2, s1_sz) with s2 a C string. */
static inline long bpf_strncmp(const char *s1, __u32 s1_sz, const char *s2)
{
	return strncmp(s1, s2, s1_sz);
}

#endif
