/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What scx_tld and the threads it schedules agree on.
 *
 * A thread publishes its latency nice, -20 to 19, under SCX_TLD_NICE_KEY:
 * below zero it is latency-critical, above zero it is batch work, and 0
 * (what an unwritten value reads as) is neither. scx_tld answers under
 * SCX_TLD_APPLIED_KEY with the class it last applied, plus one, so that 0
 * means "not scheduled since the hint was written".
 */
#ifndef SCX_TLD_H
#define SCX_TLD_H

#define SCX_TLD_NICE_KEY	"sched.latency_nice"
#define SCX_TLD_APPLIED_KEY	"sched.applied"

enum scx_tld_class {
	SCX_TLD_NORMAL,
	SCX_TLD_LATENCY,	/* shorter slice, earlier vtime, preempts */
	SCX_TLD_BATCH,		/* longer slice, later vtime */
	SCX_TLD_NODATA,		/* no tld data, or not vouched for */
	SCX_TLD_CLASSES,
};

struct scx_tld_stats {
	__u64 enqueued[SCX_TLD_CLASSES];
	__u64 direct;		/* dispatched straight to an idle CPU */
	__u64 placed;		/* queued on the CPU the balancer chose */
	__u64 preempt_kicks;	/* CPUs kicked for a latency-critical task */
	__u64 init_tasks;
	__u64 exit_tasks;
};

/* Per thread, for the tests and the loader: what the scheduler read. */
struct scx_tld_seen {
	__s32 latency_nice;
	__u32 class;
	__u64 reads;
};

/* Why the scheduler stopped, copied from struct scx_exit_info. */
struct scx_tld_exit {
	__s32 kind;
	__s64 exit_code;
	char reason[128];
	char msg[256];
};

#ifndef __bpf__
static inline const char *scx_tld_class_name(unsigned int class)
{
	static const char *const names[] = { "normal", "latency", "batch", "no data" };

	return class < SCX_TLD_CLASSES ? names[class] : "?";
}
#endif

#endif
