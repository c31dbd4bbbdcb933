// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The balancer's accounting where there is no sched_ext: the scheduler's
 * tracepoints feed balance.bpf.h, for every task on the machine. Nothing
 * here moves a task; a placement is acknowledged at the task's next
 * switch-in, which is where a scheduler would apply it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "balance.bpf.h"

const volatile __u32 ncpus = 1;

SEC("tp_btf/sched_wakeup")
int BPF_PROG(bal_wakeup, struct task_struct *p)
{
	bal_runnable(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(bal_wakeup_new, struct task_struct *p)
{
	bal_runnable(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bal_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();

	bal_stopping(prev, ncpus);
	/*
	 * A preempted task stays queued whatever its state says; otherwise
	 * any state but TASK_RUNNING (0) is a sleep.
	 */
	if (!preempt && prev_state)
		bal_quiescent(prev, now);
	bal_running(next, bpf_get_smp_processor_id(), now);
	bal_placement(next, ncpus);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
