// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test/agent's consumer, through tld/agent.bpf.h: it stamps every task
 * record when the record is made, and at th_mark() copies the agent's
 * value from the marking task's record, and its cgroup's, into the record.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/agent.bpf.h>

#include "agent.h"
#include "reader.h"

__u64 stamped, marked, unfound;

/* Attached after the store's keeper, so the record exists if it can. */
SEC("tp_btf/task_newtask")
int BPF_PROG(th_agent_new, struct task_struct *p, u64 clone_flags)
{
	struct th_agent_task __arena *t = tld_agent_task(p);

	if (!t)
		return 0;
	tld_agent_update_begin(&t->stamp.seq);
	t->stamp.tid = p->pid;
	t->stamp.check = ~(__u64)p->pid;
	tld_agent_update_end(&t->stamp.seq);
	__sync_fetch_and_add(&stamped, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(th_agent_mark, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct th_agent_cgroup __arena *c;
	struct th_agent_task __arena *t;

	if (id != TH_NR_GETPGID || regs->di >> 32 != TH_MAGIC)
		return 0;
	th_ack();
	t = tld_agent_task(task);
	if (!t) {
		__sync_fetch_and_add(&unfound, 1);
		return 0;
	}
	t->seen = t->agent;
	c = tld_agent_cgroup(task->cgroups->dfl_cgrp);
	t->cgroup_seen = c ? c->value : 0;
	__sync_fetch_and_add(&marked, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
