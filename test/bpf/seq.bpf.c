// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Samples another thread's 64-byte value whose words must all be equal:
 * through tld_read_seq() ("seq.blob", written between tld_update_begin and
 * _end) or with a plain copy ("plain.blob", written without).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "reader.h"

struct tld_keys {
	tld_key_t seq_blob;
	tld_key_t plain_blob;
};

struct seq_blob {
	struct tld_seq seq;
	__u64 w[7];
};

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

__u64 samples, torn, busy, missing;

static void sample(struct tld_object *obj, bool protected)
{
	struct seq_blob s;
	__u64 w[8], *p;
	int i;

	if (protected) {
		p = tld_get_data(obj, seq_blob, "seq.blob", sizeof(s));
		if (!p || tld_read_seq(&s, p, sizeof(s))) {
			__sync_fetch_and_add(p ? &busy : &missing, 1);
			return;
		}
		for (i = 1; i < 7; i++)
			if (s.w[i] != s.w[0])
				break;
	} else {
		p = tld_get_data(obj, plain_blob, "plain.blob", sizeof(w));
		if (!p) {
			__sync_fetch_and_add(&missing, 1);
			return;
		}
		__builtin_memcpy(w, p, sizeof(w));
		for (i = 1; i < 8; i++)
			if (w[i] != w[0])
				break;
	}
	__sync_fetch_and_add(&samples, 1);
	if (i < (protected ? 7 : 8))
		__sync_fetch_and_add(&torn, 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(seq_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct tld_object obj;
	__u64 arg;

	if (id != TH_NR_GETPGID)
		return 0;
	arg = regs->di;
	if (arg >> 32 != TH_SEQ_MAGIC)
		return 0;
	task = bpf_task_from_pid(arg & 0x7fffffff);
	if (!task)
		return 0;
	if (!tld_object_init(task, &obj))
		sample(&obj, arg & 0x80000000);
	bpf_task_release(task);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
