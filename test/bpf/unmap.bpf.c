// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Counts the data pages the test registers in `pages` (tid -> page
 * address) that their own threads give back to libtld's store,
 * madvise(MADV_REMOVE), or away, munmap(2).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NR_MUNMAP	11	/* x86-64 */
#define NR_MADVISE	28
#define MADV_REMOVE	9

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} pages SEC(".maps");

__u64 unmapped;		/* registered pages given back */

SEC("tp_btf/sys_enter")
int BPF_PROG(unmap_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	__u32 tid;
	__u64 *page;

	if (id != NR_MUNMAP && !(id == NR_MADVISE && regs->dx == MADV_REMOVE))
		return 0;
	task = bpf_get_current_task_btf();
	tid = task->pid;
	page = bpf_map_lookup_elem(&pages, &tid);
	if (!page || *page != regs->di)
		return 0;
	__sync_fetch_and_add(&unmapped, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
