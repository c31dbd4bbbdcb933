// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 7's floor: programs that do nothing, on the two tracepoints the
 * guard sweeps at. What they cost a context switch is the kernel's
 * dispatch into BPF, which any program there pays; the guard's own work
 * is what it costs beyond them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_waking")
int BPF_PROG(floor_waking, struct task_struct *p)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
