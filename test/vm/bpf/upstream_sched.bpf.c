// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A sched_ext scheduler written against the kernel selftests'
 * task_local_data.bpf.h, as scx's schedulers are: global FIFO, and at each
 * enqueue it records the latency nice the task published. It knows nothing
 * of tld but the pinned map it reuses.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "upstream_tld.bpf.h"

#include "scx_tld.h"

struct tld_keys {
	tld_key_t nice;
};

/* tid -> the latency nice last read */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __s32);
} nices SEC(".maps");

SEC("struct_ops/up_enqueue")
void BPF_PROG(up_enqueue, struct task_struct *p, u64 enq_flags)
{
	struct tld_object obj;
	__u32 tid = p->pid;
	__s32 *nice;

	if (!tld_object_init(p, &obj)) {
		nice = tld_get_data(&obj, nice, SCX_TLD_NICE_KEY, sizeof(*nice));
		if (nice)
			bpf_map_update_elem(&nices, &tid, nice, BPF_ANY);
	}
	scx_bpf_dsq_insert(p, SCX_DSQ_GLOBAL, SCX_SLICE_DFL, enq_flags);
}

SEC(".struct_ops.link")
struct sched_ext_ops upstream_ops = {
	.enqueue	= (void *)up_enqueue,
	.name		= "tld_upstream",
};

char LICENSE[] SEC("license") = "GPL";
