// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Who wakes whom, by role: on every wakeup, the role the woken task
 * published (another task's hints, not current's) and the waker's. It hooks
 * sched_waking, which runs in the waker; sched_wakeup may run on the
 * wakee's CPU, where current is whatever ran there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "wakeups.h"

struct tld_keys {
	tld_key_t role;
};

/* [waker role][wakee role]: wakeups. */
__u64 matrix[ROLES][ROLES];

static __u32 role_of(struct task_struct *task)
{
	struct tld_object obj;
	__u64 *role;

	if (tld_object_init(task, &obj))
		return ROLE_NONE;
	role = tld_get_data(&obj, role, ROLE_KEY, sizeof(*role));
	return role && *role < ROLES ? *role : ROLE_NONE;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(wakematrix_waking, struct task_struct *p)
{
	__u32 wakee = role_of(p), waker;

	if (wakee == ROLE_NONE)
		return 0;
	waker = role_of(bpf_get_current_task_btf());
	if (waker < ROLES)
		__sync_fetch_and_add(&matrix[waker][wakee], 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
