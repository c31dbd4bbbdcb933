// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * scx_tld: a weighted-vtime sched_ext scheduler that reads each thread's
 * latency nice from tld (scx_tld.h).
 *
 * All tasks share one vtime-ordered queue. A latency-critical task gets a
 * quarter slice, starts a full slice ahead in vtime, and on wakeup kicks a
 * CPU running anything else; a batch task gets double slices and starts a
 * slice behind. Tasks without tld data are scheduled as normal ones.
 *
 * The hint is read at every enqueue, from user memory, so a thread that
 * changes it with a plain store is scheduled by the new value the next
 * time it is queued. Built against the 7.3 kernel's BTF (test/vm).
 *
 * With the agent store (tldtool agent create), it also accounts every
 * task's runnable and run time into the task's record, and runs a task the
 * balancer (examples/balance) placed on a CPU only there: the task waits in
 * that CPU's queue, which the CPU serves before the shared one when its
 * head is due first. The placement is read at every wakeup and enqueue.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "balance.bpf.h"
#include "scx_tld.h"

#define SHARED_DSQ	0
#define DOM_DSQ(cpu)	(1 + (__u64)(cpu))
#define SLICE_NS	5000000ull	/* the normal slice, 5 ms */

struct tld_keys {
	tld_key_t nice;
	tld_key_t applied;
};

struct task_ctx {
	__u32 class;
	__u64 slice;		/* what this run was given */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct scx_tld_seen);
} seen SEC(".maps");

/* The class of the task each CPU runs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cpu_class SEC(".maps");

struct scx_tld_stats stats;
struct scx_tld_exit exit_info;
static __u64 vtime_now;

/* CPUs 0 to nr_doms - 1 are the balancer's domains, one CPU each. */
const volatile __u32 nr_doms = 1;

static void note_seen(struct task_struct *p, __s32 nice, __u32 class)
{
	struct scx_tld_seen *s, zero = {};
	__u32 tid = p->pid;

	bpf_map_update_elem(&seen, &tid, &zero, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&seen, &tid);
	if (!s)
		return;
	s->latency_nice = nice;
	s->class = class;
	s->reads++;
}

/* Read @p's hint, and tell the thread which class it got. */
static __u32 read_class(struct task_struct *p)
{
	struct tld_object obj;
	__u32 class, *applied;
	__s32 *nice, n;

	if (tld_object_init(p, &obj))
		return SCX_TLD_NODATA;
	nice = tld_get_data(&obj, nice, SCX_TLD_NICE_KEY, sizeof(*nice));
	if (!nice)
		return SCX_TLD_NODATA;
	n = *nice;
	class = n < 0 ? SCX_TLD_LATENCY : n > 0 ? SCX_TLD_BATCH : SCX_TLD_NORMAL;
	applied = tld_get_data(&obj, applied, SCX_TLD_APPLIED_KEY, sizeof(*applied));
	if (applied)
		*applied = class + 1;
	note_seen(p, n, class);
	return class;
}

static __u64 slice_of(__u32 class)
{
	switch (class) {
	case SCX_TLD_LATENCY:
		return SLICE_NS / 4;
	case SCX_TLD_BATCH:
		return SLICE_NS * 2;
	default:
		return SLICE_NS;
	}
}

/* Read @p's class now, and remember it and the slice it gets for this run. */
static __u32 classify(struct task_struct *p)
{
	struct task_ctx *c = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	__u32 class = read_class(p);

	if (c) {
		c->class = class;
		c->slice = slice_of(class);
	}
	return class;
}

/* Where @p starts in the queue: no more than a slice of idle credit. */
static __u64 vtime_of(struct task_struct *p, __u32 class)
{
	__u64 v = p->scx.dsq_vtime, floor = vtime_now - SLICE_NS;

	if ((__s64)(v - floor) < 0)
		v = floor;
	if (class == SCX_TLD_LATENCY)
		return v - SLICE_NS;
	if (class == SCX_TLD_BATCH)
		return v + SLICE_NS;
	return v;
}

/* A latency-critical task should not wait for another's slice to end. */
static void kick_for(struct task_struct *p)
{
	__s32 cpu = scx_bpf_task_cpu(p);
	__u32 zero = 0, *running = bpf_map_lookup_percpu_elem(&cpu_class, &zero, cpu);

	if (running && *running != SCX_TLD_LATENCY) {
		scx_bpf_kick_cpu(cpu, SCX_KICK_PREEMPT);
		__sync_fetch_and_add(&stats.preempt_kicks, 1);
	}
}

/* The CPU the balancer placed @p on, if @p may run there; else -1. */
static s32 placed_cpu(struct task_struct *p)
{
	s32 cpu = bal_placement(p, nr_doms);

	if (cpu < 0 || !bpf_cpumask_test_cpu(cpu, p->cpus_ptr))
		return -1;
	return cpu;
}

SEC("struct_ops/tld_select_cpu")
s32 BPF_PROG(tld_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool idle = false;
	s32 cpu = placed_cpu(p);

	if (cpu >= 0) {
		if (scx_bpf_test_and_clear_cpu_idle(cpu)) {
			__sync_fetch_and_add(&stats.direct, 1);
			scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_of(classify(p)), 0);
		}
		return cpu;
	}
	cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &idle);
	if (idle) {
		__sync_fetch_and_add(&stats.direct, 1);
		scx_bpf_dsq_insert(p, SCX_DSQ_LOCAL, slice_of(classify(p)), 0);
	}
	return cpu;
}

SEC("struct_ops/tld_enqueue")
void BPF_PROG(tld_enqueue, struct task_struct *p, u64 enq_flags)
{
	__u32 class = classify(p);
	s32 cpu = placed_cpu(p);

	__sync_fetch_and_add(&stats.enqueued[class < SCX_TLD_CLASSES ? class : SCX_TLD_NODATA], 1);
	if (cpu >= 0) {
		__sync_fetch_and_add(&stats.placed, 1);
		scx_bpf_dsq_insert_vtime(p, DOM_DSQ(cpu), slice_of(class), vtime_of(p, class),
					 enq_flags);
		scx_bpf_kick_cpu(cpu, SCX_KICK_IDLE);
		return;
	}
	scx_bpf_dsq_insert_vtime(p, SHARED_DSQ, slice_of(class), vtime_of(p, class), enq_flags);
	if (class == SCX_TLD_LATENCY)
		kick_for(p);
}

/* Whether the head of @a is due before the head of @b's (an empty queue never is). */
static bool due_first(u64 a, u64 b)
{
	struct task_struct *pa = scx_bpf_dsq_peek(a), *pb;

	if (!pa)
		return false;
	pb = scx_bpf_dsq_peek(b);
	return !pb || (s64)(pa->scx.dsq_vtime - pb->scx.dsq_vtime) <= 0;
}

SEC("struct_ops/tld_dispatch")
void BPF_PROG(tld_dispatch, s32 cpu, struct task_struct *prev)
{
	if ((u32)cpu < nr_doms && due_first(DOM_DSQ(cpu), SHARED_DSQ) &&
	    scx_bpf_dsq_move_to_local(DOM_DSQ(cpu)))
		return;
	if (!scx_bpf_dsq_move_to_local(SHARED_DSQ) && (u32)cpu < nr_doms)
		scx_bpf_dsq_move_to_local(DOM_DSQ(cpu));
}

SEC("struct_ops/tld_runnable")
void BPF_PROG(tld_runnable, struct task_struct *p, u64 enq_flags)
{
	bal_runnable(p, bpf_ktime_get_ns());
}

SEC("struct_ops/tld_quiescent")
void BPF_PROG(tld_quiescent, struct task_struct *p, u64 deq_flags)
{
	bal_quiescent(p, bpf_ktime_get_ns());
}

SEC("struct_ops/tld_running")
void BPF_PROG(tld_running, struct task_struct *p)
{
	struct task_ctx *c = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	__u32 zero = 0, *running = bpf_map_lookup_elem(&cpu_class, &zero);

	if (running)
		*running = c ? c->class : SCX_TLD_NORMAL;
	if ((__s64)(p->scx.dsq_vtime - vtime_now) > 0)
		vtime_now = p->scx.dsq_vtime;
	bal_running(p, bpf_get_smp_processor_id(), bpf_ktime_get_ns());
}

/* Charge the time used, scaled by weight, as scx_simple does. */
SEC("struct_ops/tld_stopping")
void BPF_PROG(tld_stopping, struct task_struct *p, bool runnable)
{
	struct task_ctx *c = bpf_task_storage_get(&task_ctxs, p, 0, 0);
	__u64 given = c ? c->slice : SLICE_NS;

	if (given > p->scx.slice)
		p->scx.dsq_vtime += (given - p->scx.slice) * 100 / p->scx.weight;
	bal_stopping(p, nr_doms);
}

SEC("struct_ops/tld_enable")
void BPF_PROG(tld_enable, struct task_struct *p)
{
	p->scx.dsq_vtime = vtime_now;
}

SEC("struct_ops.s/tld_init_task")
s32 BPF_PROG(tld_init_task, struct task_struct *p, struct scx_init_task_args *args)
{
	if (!bpf_task_storage_get(&task_ctxs, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE))
		return -12;	/* -ENOMEM: the task cannot be scheduled */
	__sync_fetch_and_add(&stats.init_tasks, 1);
	return 0;
}

SEC("struct_ops/tld_exit_task")
void BPF_PROG(tld_exit_task, struct task_struct *p, struct scx_exit_task_args *args)
{
	__u32 tid = p->pid;

	bpf_task_storage_delete(&task_ctxs, p);
	bpf_map_delete_elem(&seen, &tid);
	__sync_fetch_and_add(&stats.exit_tasks, 1);
}

SEC("struct_ops.s/tld_init")
s32 BPF_PROG(tld_init)
{
	s32 err = scx_bpf_create_dsq(SHARED_DSQ, -1);
	u32 cpu;

	bpf_for(cpu, 0, nr_doms) {
		if (err)
			break;
		err = scx_bpf_create_dsq(DOM_DSQ(cpu), -1);
	}
	return err;
}

SEC("struct_ops/tld_exit")
void BPF_PROG(tld_exit, struct scx_exit_info *ei)
{
	exit_info.kind = ei->kind;
	exit_info.exit_code = ei->exit_code;
	bpf_probe_read_kernel_str(exit_info.reason, sizeof(exit_info.reason), ei->reason);
	bpf_probe_read_kernel_str(exit_info.msg, sizeof(exit_info.msg), ei->msg);
}

SEC(".struct_ops.link")
struct sched_ext_ops scx_tld_ops = {
	.select_cpu	= (void *)tld_select_cpu,
	.enqueue	= (void *)tld_enqueue,
	.dispatch	= (void *)tld_dispatch,
	.runnable	= (void *)tld_runnable,
	.quiescent	= (void *)tld_quiescent,
	.running	= (void *)tld_running,
	.stopping	= (void *)tld_stopping,
	.enable		= (void *)tld_enable,
	.init_task	= (void *)tld_init_task,
	.exit_task	= (void *)tld_exit_task,
	.init		= (void *)tld_init,
	.exit		= (void *)tld_exit,
	.name		= "tld",
};

char LICENSE[] SEC("license") = "GPL";
