// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 6: a BPF record lookup from the task_struct, against a bare
 * task-storage lookup and load, READS times per run so that bpf_stats
 * gives the cost per read; the empty loop is subtracted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/agent.bpf.h>

#define READS	64

__u64 sum;

SEC("uprobe")
int BPF_UPROBE(agent_empty)
{
	int i;

	bpf_for(i, 0, READS)
		sum += i;
	return 0;
}

/* The floor: the task's storage and a load from it. */
SEC("uprobe")
int BPF_UPROBE(agent_bare)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tld_agent_slot *s;
	int i;

	bpf_for(i, 0, READS) {
		s = bpf_task_storage_get(&tld_agent_tasks, task, 0, 0);
		if (s)
			sum += s->slot + i;
	}
	return 0;
}

/* The record: the storage, the record's generation, a payload load. */
SEC("uprobe")
int BPF_UPROBE(agent_record)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 __arena *p;
	int i;

	bpf_for(i, 0, READS) {
		p = tld_agent_task(task);
		if (p)
			sum += *p + i;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
