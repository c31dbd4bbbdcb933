// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU time per hint class: on every context switch, the time the task going
 * off the CPU ran is charged to the class its thread published. The hint is
 * read from the switched-out task, which is not the program's current.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "hints.h"

struct tld_keys {
	tld_key_t class;
	tld_key_t request;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} oncpu_since SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hint_thread);
} threads SEC(".maps");

__u64 class_ns[HINT_CLASSES + 1];

static void charge(struct task_struct *task, __u64 now)
{
	static const struct hint_thread zero;
	struct hint_thread *t;
	struct tld_object obj;
	__u64 *since, *class, *request, ns;
	__u32 tid = task->pid, c;

	since = bpf_task_storage_get(&oncpu_since, task, 0, 0);
	if (!since || !*since)
		return;
	ns = now - *since;
	*since = 0;
	if (tld_object_init(task, &obj))
		return;
	class = tld_get_data(&obj, class, HINT_CLASS_KEY, sizeof(*class));
	request = tld_get_data(&obj, request, HINT_REQUEST_KEY, sizeof(*request));
	c = class && *class < HINT_CLASSES ? *class : HINT_NONE;
	__sync_fetch_and_add(&class_ns[c], ns);

	bpf_map_update_elem(&threads, &tid, &zero, BPF_NOEXIST);
	t = bpf_map_lookup_elem(&threads, &tid);
	if (!t)
		return;
	t->tgid = task->tgid;
	t->class = c;
	t->request = request ? *request : 0;
	t->cpu_ns += ns;
	t->switches++;
}

/* Only tasks with tld data are timed. */
static void stamp(struct task_struct *task, __u64 now)
{
	__u64 *since;

	if (!bpf_task_storage_get(&tld_data_map, task, 0, 0))
		return;
	since = bpf_task_storage_get(&oncpu_since, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (since)
		*since = now;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(hintstat_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	charge(prev, now);
	stamp(next, now);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
