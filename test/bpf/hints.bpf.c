// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test/hints' reader, through tld/cgroup.bpf.h: at th_mark() it reads the
 * marking task's effective "latency" hint and records it by tid.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/cgroup.bpf.h>

#include "reader.h"

struct th_hint {
	__s32 level;		/* where it came from, or -errno */
	__u32 pad;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct th_hint);
} hints SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(th_hint_mark, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct th_hint h = { 0 };
	__u32 tid = task->pid;

	if (id != TH_NR_GETPGID || regs->di >> 32 != TH_MAGIC)
		return 0;
	th_ack();
	bpf_rcu_read_lock();
	h.level = tld_cgroup_hint_u64(task->cgroups->dfl_cgrp, "latency", &h.value);
	bpf_rcu_read_unlock();
	bpf_map_update_elem(&hints, &tid, &h, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
