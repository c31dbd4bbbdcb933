// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 2: reads of the calling thread's hint, four ways, each its own
 * program on its own uprobe so that kernel.bpf_stats times it alone
 * (read.h: once and READS times a run).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "read.h"

struct tld_keys {
	tld_key_t hint;
	tld_key_t last;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} hints_by_pid SEC(".maps");

__u64 sum;

SEC("uprobe")
int BPF_UPROBE(read_empty)
{
	int i;

	bpf_for(i, 0, READS)
		sum += i;
	return 0;
}

/* The floor: the storage lookup and a load at an offset known in advance. */
READ_PROGS(read_bare, {
	struct tld_map_value *m = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	__u32 off;

	if (m && m->data) {
		off = m->start;
		if (off <= TLD_PAGE_SIZE - 8)
			v = *(__u64 *)((void *)m->data + off);
	}
})

/* tld.bpf.h with the key's offset cached, as after a task's first read. */
READ_PROGS(read_tld, {
	struct tld_object obj;
	__u64 *p;

	if (!tld_object_init(task, &obj)) {
		p = tld_get_data(&obj, hint, "bench.hint", 8);
		if (p)
			v = *p;
	}
})

/* The status quo: a hash map keyed by tid. */
READ_PROGS(read_hash, {
	__u32 tid = task->pid;
	__u64 *p = bpf_map_lookup_elem(&hints_by_pid, &tid);

	if (p)
		v = *p;
})

/* A task's first read of the last of 63 keys: the cache dropped each time. */
SEC("uprobe")
int BPF_UPROBE(read_uncached)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tld_object obj;
	__u64 *p;

	bpf_task_storage_delete(&tld_key_map, task);
	if (tld_object_init(task, &obj))
		return 0;
	p = tld_get_data(&obj, last, "k62", 8);
	if (p)
		sum += *p;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
