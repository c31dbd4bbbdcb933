// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Walk every task and count those with a tld entry. Task storage has no
 * get_next_key, so an iterator is the only way to enumerate entries.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <tld/map.bpf.h>

__u64 entries;

SEC("iter/task")
int tld_count_entries(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task && bpf_task_storage_get(&tld_data_map, task, 0, 0))
		entries++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
