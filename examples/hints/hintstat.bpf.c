// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU time and run-queue wait per hint class. On every context switch, the
 * time the task going off the CPU ran is charged to the class its thread
 * published; on every wakeup the woken task is stamped, and its wait ends
 * when it is switched in. Hints are read from the switched-out or woken
 * task, which is not the program's current.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "../../bpf/oncpu.bpf.h"
#include "hints.h"

struct tld_keys {
	tld_key_t class;
	tld_key_t request;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hint_thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} woken_at SEC(".maps");

__u64 class_ns[HINT_CLASSES + 1];
struct hint_waits class_waits[HINT_CLASSES + 1];

/* The class @task published, HINT_NONE if none; -1 without tld data. */
static int class_of(struct task_struct *task, __u64 *request)
{
	struct tld_object obj;
	__u64 *class, *req;

	if (tld_object_init(task, &obj))
		return -1;
	class = tld_get_data(&obj, class, HINT_CLASS_KEY, sizeof(*class));
	req = tld_get_data(&obj, request, HINT_REQUEST_KEY, sizeof(*req));
	if (request)
		*request = req ? *req : 0;
	return class && *class < HINT_CLASSES ? *class : HINT_NONE;
}

static struct hint_thread *thread_of(struct task_struct *task)
{
	static const struct hint_thread zero;
	__u32 tid = task->pid;

	bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&threads, &tid);
}

static __u32 log2_bucket(__u64 ns)
{
	__u32 b = 0;

	while (ns > 1 && b < HINT_WAIT_BUCKETS - 1) {
		ns >>= 1;
		b++;
	}
	return b;
}

static void charge(struct task_struct *task, __u64 now)
{
	struct hint_thread *t;
	__u64 request, ns;
	int c;

	if (!oncpu_ran(task, now, &ns))
		return;
	c = class_of(task, &request);
	if (c < 0)
		return;
	__sync_fetch_and_add(&class_ns[c], ns);
	t = thread_of(task);
	if (!t)
		return;
	t->tgid = task->tgid;
	t->class = c;
	t->request = request;
	t->cpu_ns += ns;
	t->switches++;
}

/* The wait that ends as @task is switched in. */
static void end_wait(struct task_struct *task, __u64 now)
{
	struct hint_waits *w;
	struct hint_thread *t;
	__u64 *at, ns;
	int c;

	at = bpf_task_storage_get(&woken_at, task, 0, 0);
	if (!at || !*at)
		return;
	ns = now - *at;
	*at = 0;
	c = class_of(task, NULL);
	if (c < 0 || c > HINT_NONE)
		return;
	w = &class_waits[c];
	__sync_fetch_and_add(&w->count, 1);
	__sync_fetch_and_add(&w->sum_ns, ns);
	__sync_fetch_and_add(&w->bucket[log2_bucket(ns)], 1);
	t = thread_of(task);
	if (t) {
		t->wakeups++;
		t->wait_ns += ns;
	}
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hintstat_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	charge(prev, now);
	end_wait(next, now);
	oncpu_stamp(next, now);
	return 0;
}

/* @p is the woken task, not current (the waker). */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(hintstat_wakeup, struct task_struct *p)
{
	__u64 *at;

	if (!bpf_task_storage_get(&tld_data_map, p, 0, 0))
		return 0;
	at = bpf_task_storage_get(&woken_at, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (at)
		*at = bpf_ktime_get_ns();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
