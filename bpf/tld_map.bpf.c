// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The maps tldtool creates and pins, and the program that keeps their
 * entries truthful across exec: the kernel keeps task storage through
 * execve, so without it BPF would go on reading the old image's pinned
 * pages, vouched for by the old image.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/map.bpf.h>

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tld_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	bpf_task_storage_delete(&tld_data_map, p);
	bpf_task_storage_delete(&tld_guard_map, p);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
