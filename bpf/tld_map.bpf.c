// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The maps tldtool creates and pins, and the programs that end a task's
 * entries when its image or its life ends: the kernel keeps task storage
 * through execve, so without tld_exec BPF would go on reading the old
 * image's pinned pages, vouched for by the old image; and it frees task
 * storage at the task's last reference, which a zombie group leader, an
 * io_uring or a perf event may hold long after the exit, so tld_exit
 * deletes it at the exit (libtld leaves an exiting thread's entry to it).
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

/*
 * The verdict first: a guard sweep between the two deletes then finds an
 * entry nobody vouched for, which it may remove, not a vouched entry gone,
 * which it would count as erased. Before 7.0 a delete the per-CPU busy
 * count refuses (never on a kernel without preemption) leaves the entry to
 * the task's free.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tld_exit, struct task_struct *p)
{
	if (!p->bpf_storage)
		return 0;
	bpf_task_storage_delete(&tld_guard_map, p);
	bpf_task_storage_delete(&tld_data_map, p);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
