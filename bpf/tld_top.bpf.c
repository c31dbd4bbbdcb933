// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* On-CPU time of every task with tld data, for tldtool top. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/map.bpf.h>

#include "oncpu.bpf.h"

/* tid -> nanoseconds on a CPU since tldtool top started. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} cpu_ns SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(tld_top_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns(), ns, *total, zero = 0;
	__u32 tid = prev->pid;

	if (oncpu_ran(prev, now, &ns)) {
		bpf_map_update_elem(&cpu_ns, &tid, &zero, BPF_NOEXIST);
		total = bpf_map_lookup_elem(&cpu_ns, &tid);
		if (total)
			__sync_fetch_and_add(total, ns);
	}
	oncpu_stamp(next, now);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
