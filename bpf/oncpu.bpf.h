/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * On-CPU time of tasks with tld data, for programs on tp_btf/sched_switch:
 * oncpu_stamp() the task switched in, oncpu_ran() the one switched out.
 * Shared by tldtool top and the hintstat example. Include after vmlinux.h,
 * <bpf/bpf_helpers.h> and a header that declares tld_data_map.
 */
#ifndef TLD_ONCPU_BPF_H
#define TLD_ONCPU_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} oncpu_since SEC(".maps");

/*
 * Whether @task was stamped; if so, *@ns is how long it has run since,
 * and the stamp is cleared so that no switch is charged twice.
 */
static bool oncpu_ran(struct task_struct *task, __u64 now, __u64 *ns)
{
	__u64 *since = bpf_task_storage_get(&oncpu_since, task, 0, 0);

	if (!since || !*since)
		return false;
	*ns = now - *since;
	*since = 0;
	return true;
}

/* Only tasks with tld data are timed, so only they get storage. */
static void oncpu_stamp(struct task_struct *task, __u64 now)
{
	__u64 *since;

	if (!bpf_task_storage_get(&tld_data_map, task, 0, 0))
		return;
	since = bpf_task_storage_get(&oncpu_since, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (since)
		*since = now;
}

#endif
