// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Off-CPU time and system calls per request and tenant. When a task blocks
 * (switched out not runnable) while its "request" hint names a request,
 * the time until it runs again is charged to that request; every system
 * call it makes is counted to the request it is serving.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "requests.h"

struct tld_keys {
	tld_key_t request;
};

struct blocked {
	__u64 since;
	struct req_key req;
};

/*
 * By tid, in a preallocated hash: task storage made in sched_switch fails
 * (NULL) while another task-storage operation holds this CPU's busy count,
 * such as a map update preempted in the middle, and the block would be
 * lost; a hash bucket's lock is never held across a preemption. (A
 * thread that exits while blocked leaves its entry until its tid runs again.)
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct blocked);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct req_key);
	__type(value, struct req_stat);
} reqs SEC(".maps");

/* The request @task is serving, if any. */
static bool request_of(struct task_struct *task, struct req_key *k)
{
	struct tld_object obj;
	__u64 *r;

	if (tld_object_init(task, &obj))
		return false;
	r = tld_get_data(&obj, request, REQUEST_KEY, sizeof(*r));
	if (!r || !*r)
		return false;
	__builtin_memcpy(k, r, sizeof(*k));
	return true;
}

static struct req_stat *stat_of(struct req_key *k)
{
	static const struct req_stat zero;

	bpf_map_update_elem(&reqs, k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&reqs, k);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(reqtrace_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct blocked nb = { .since = bpf_ktime_get_ns() };
	__u32 tid = prev->pid;
	struct req_stat *st;
	struct blocked *b;

	if (prev_state && request_of(prev, &nb.req))
		bpf_map_update_elem(&blocked, &tid, &nb, BPF_ANY);
	tid = next->pid;
	b = bpf_map_lookup_elem(&blocked, &tid);
	if (!b)
		return 0;
	st = stat_of(&b->req);
	if (st) {
		__sync_fetch_and_add(&st->offcpu_ns, nb.since - b->since);
		__sync_fetch_and_add(&st->blocks, 1);
	}
	bpf_map_delete_elem(&blocked, &tid);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(reqtrace_sys_enter, struct pt_regs *regs, long id)
{
	struct req_stat *st;
	struct req_key k;

	if (!request_of(bpf_get_current_task_btf(), &k))
		return 0;
	st = stat_of(&k);
	if (st)
		__sync_fetch_and_add(&st->syscalls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
