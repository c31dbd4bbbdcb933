// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A downstream BPF program, built against the installed headers only: at
 * each system call entry of a thread the app names, the hint it published.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

struct tld_keys {
	tld_key_t hint;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

const volatile __u32 target_tid;

SEC("tp_btf/sys_enter")
int BPF_PROG(probe, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tld_object obj;
	__u32 tid = task->pid;
	__u64 *hint;

	if (tid != target_tid || tld_object_init(task, &obj))
		return 0;
	hint = tld_get_data(&obj, hint, "downstream.hint", sizeof(*hint));
	if (hint)
		bpf_map_update_elem(&seen, &tid, hint, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
