/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Group 2's programs: each way of reading the hint, as one read per run
 * (NAME) and as READS reads per run (NAME_n), so that bpf_stats gives the
 * cost of a read once the run's fixed cost (read_empty, READS turns of an
 * empty loop) is taken off.
 */
#ifndef BENCH_READ_H
#define BENCH_READ_H

#define READS	64

/* READ_PROGS(name, expr): @expr reads the hint of task, into __u64 v. */
#define READ_PROGS(name, ...)						\
	static __always_inline __u64 name##_one(struct task_struct *task)	\
	{								\
		__u64 v = 0;						\
									\
		__VA_ARGS__;						\
		return v;						\
	}								\
									\
	SEC("uprobe")							\
	int BPF_UPROBE(name)						\
	{								\
		sum += name##_one(bpf_get_current_task_btf());		\
		return 0;						\
	}								\
									\
	SEC("uprobe")							\
	int BPF_UPROBE(name##_n)					\
	{								\
		struct task_struct *task = bpf_get_current_task_btf();	\
		int i;							\
									\
		bpf_for(i, 0, READS)					\
			sum += name##_one(task) + i;			\
		return 0;						\
	}

#endif
