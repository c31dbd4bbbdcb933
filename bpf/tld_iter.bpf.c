// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Task iterators over the tld map, for tldtool. Task storage has no
 * get_next_key, so iterating tasks is the only way to enumerate entries,
 * and it reads their pages from the kernel side: the target process is
 * never touched. Each task's record is written whole or not at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <tld/map.bpf.h>

#include "tld_iter.h"

__u64 entries;
/*
 * Vouched entries deleted or replaced since their task last ran: the guard
 * counts an erasure when the task next wakes or is switched in, which a
 * thread asleep for good never is.
 */
__u64 erased_pending;

SEC("iter/task")
int tld_count_entries(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tld_map_value *v;
	struct tld_verdict *g;

	if (!task)
		return 0;
	v = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	g = bpf_task_storage_get(&tld_guard_map, task, 0, 0);
	if (v)
		entries++;
	if (g && g->data && (!v || !tld_verdict_names(g, v->data, v->meta, v->start)))
		erased_pending++;
	return 0;
}

SEC("iter/task")
int tld_dump(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct tld_dump_head head = {};
	struct tld_map_value *v;
	struct tld_verdict *g;
	struct tld_data_u *data;
	struct tld_meta_u *meta;

	if (!task)
		return 0;
	v = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	if (!v)
		return 0;
	data = v->data;
	meta = v->meta;
	if (!data || !meta)
		return 0;
	g = bpf_task_storage_get(&tld_guard_map, task, 0, 0);
	head.tid = task->pid;
	head.tgid = task->tgid;
	__builtin_memcpy(head.comm, task->comm, sizeof(head.comm));
	head.start = v->start;
	head.vouched = g && g->data == (__u64)data && g->meta == (__u64)meta &&
		       g->start == v->start;
	head.leaving = g && g->withdrawn;
	bpf_seq_write(ctx->meta->seq, &head, sizeof(head));
	bpf_seq_write(ctx->meta->seq, meta, TLD_DUMP_META_SIZE);
	bpf_seq_write(ctx->meta->seq, data, sizeof(*data));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
