/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The balancer's BPF half (balance.h), for any program that sees tasks
 * wake, run and stop: scx_tld's callbacks in a sched_ext kernel, the
 * tracepoints of balance_trace.bpf.c elsewhere. Include after vmlinux.h
 * and <bpf/bpf_helpers.h>, in a program that reuses the agent store's maps
 * (tld_loader_reuse_agent()).
 *
 * A task without a record (none made yet, or the store is full) is not
 * accounted; the agent sees no load for it.
 */
#ifndef EXAMPLES_BALANCE_BPF_H
#define EXAMPLES_BALANCE_BPF_H

#include <tld/agent.bpf.h>

#include "balance.h"

#define BAL_PF_KTHREAD	0x00200000	/* PF_KTHREAD, include/linux/sched.h */

static __always_inline struct bal_task __arena *bal_rec(struct task_struct *p)
{
	return tld_agent_task(p);
}

/* @p became runnable at @now: woken, or new. */
static __always_inline void bal_runnable(struct task_struct *p, __u64 now)
{
	struct bal_task __arena *t = bal_rec(p);

	if (!t || t->sched.runnable_at)
		return;
	tld_agent_update_begin(&t->sched.seq);
	t->sched.runnable_at = now;
	tld_agent_update_end(&t->sched.seq);
}

/* @p went to sleep at @now: its spell of being runnable is over. */
static __always_inline void bal_quiescent(struct task_struct *p, __u64 now)
{
	struct bal_task __arena *t = bal_rec(p);
	__u64 at;

	if (!t || !(at = t->sched.runnable_at))
		return;
	tld_agent_update_begin(&t->sched.seq);
	if (now > at)
		t->sched.runnable_ns += now - at;
	t->sched.runnable_at = 0;
	tld_agent_update_end(&t->sched.seq);
}

/*
 * @p starts running on @cpu at @now. A task runnable since before BPF
 * watched it has no spell open yet: it opens one now.
 */
static __always_inline void bal_running(struct task_struct *p, __s32 cpu, __u64 now)
{
	struct bal_task __arena *t = bal_rec(p);

	if (!t)
		return;
	tld_agent_update_begin(&t->sched.seq);
	t->sched.cpu = cpu;
	if (!t->sched.runnable_at)
		t->sched.runnable_at = now;
	tld_agent_update_end(&t->sched.seq);
}

/*
 * @p stops running. The kernel has already charged it the time it ran, so
 * its sum_exec_runtime is exact here.
 */
static __always_inline void bal_stopping(struct task_struct *p, __u32 ncpus)
{
	struct bal_task __arena *t = bal_rec(p);
	__u32 pinned = (p->flags & BAL_PF_KTHREAD) || (__u32)p->nr_cpus_allowed < ncpus;

	if (!t)
		return;
	tld_agent_update_begin(&t->sched.seq);
	t->sched.runtime_ns = p->se.sum_exec_runtime;
	t->sched.flags = pinned ? BAL_PINNED : 0;
	tld_agent_update_end(&t->sched.seq);
}

/*
 * The domain the agent placed @p in, below @ndoms, or -1; a placement seen
 * is acknowledged in @applied. The agent may write anything there: the
 * domain is checked here, and whether @p may run there is the caller's.
 */
static __always_inline __s32 bal_placement(struct task_struct *p, __u32 ndoms)
{
	struct bal_task __arena *t = bal_rec(p);
	__u64 v;
	__s32 dom;

	if (!t)
		return -1;
	v = *(volatile __u64 __arena *)&t->placement;
	dom = BAL_PLACE_DOM(v);
	if (dom < 0 || (__u32)dom >= ndoms)
		return -1;
	if (t->applied != BAL_PLACE_GEN(v))
		t->applied = BAL_PLACE_GEN(v);
	return dom;
}

#endif
