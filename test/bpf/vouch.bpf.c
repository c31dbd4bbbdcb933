// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test/vouch's probes on libtld's tld__vouch(op, cookie, tid): they count
 * the test process's announcements and commits, and, on request, play a
 * guard sweep that beats the commit (the entry deleted as COMMIT starts),
 * a plant that beats it (SIGUSR1 to the thread, whose handler plants, as
 * COMMIT starts), or a guard from before TLD_COOKIE_VOUCHED (the flip
 * undone after it).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/map.bpf.h>

#include "vouch.h"

struct th_vouch_counts counts;
__s32 tgid;
__u32 sweep_next;	/* commits to beat with a delete */
__u32 plant_next;	/* commits to beat with a plant */
__u32 unflip_next;	/* commits whose flip to undo */
/* The last call's: the test registers one thread at a time. */
static __u32 last_op;
static __u64 last_cookie;

SEC("uprobe")
int BPF_UPROBE(th_vouch_enter, int op, __u64 cookie)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (task->tgid != tgid)
		return 0;
	last_op = op;
	last_cookie = cookie;
	if (op == TLD_VOUCH_ANNOUNCE)
		__sync_fetch_and_add(&counts.announced, 1);
	if (op != TLD_VOUCH_COMMIT)
		return 0;
	__sync_fetch_and_add(&counts.committed, 1);
	/* Spent even if a sweep of the kernel's got there first: one commit each. */
	if (sweep_next) {
		sweep_next--;
		if (!bpf_task_storage_delete(&tld_data_map, task))
			__sync_fetch_and_add(&counts.swept, 1);
	}
	if (plant_next && !bpf_send_signal_thread(TH_PLANT_SIGNAL)) {
		plant_next--;
		__sync_fetch_and_add(&counts.signalled, 1);
	}
	return 0;
}

SEC("uretprobe")
int BPF_URETPROBE(th_vouch_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tld_map_value *v;
	struct tld_data_u *data;

	if (task->tgid != tgid || last_op != TLD_VOUCH_COMMIT)
		return 0;
	v = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	data = v ? v->data : NULL;
	if (!data || data->unused != (last_cookie ^ TLD_COOKIE_VOUCHED))
		return 0;
	__sync_fetch_and_add(&counts.flipped, 1);
	if (unflip_next) {
		unflip_next--;
		data->unused = last_cookie;
		__sync_fetch_and_add(&counts.unflipped, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
