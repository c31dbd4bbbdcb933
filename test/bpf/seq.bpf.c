// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test/seqcount's reader: on getpgid(TH_SEQ_ARG(how, tid)) from the test's
 * own process, it reads thread @tid's "seq.blob" @how and records the
 * result, and the copy if there is one.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "seq.h"

struct tld_keys {
	tld_key_t blob;
	tld_key_t small;
	tld_key_t absent;
};

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* Set before loading: other processes' calls, such as another run of this
 * test, must not overwrite what this one checks. */
const volatile __u32 tgid;

/* The last read: its result, and the copy if it was 0. */
int err;
struct th_seq_blob copy;
/* All reads: those that copied, those that gave up, torn copies. */
__u64 reads, copies, busy, torn;

static int read_blob(struct tld_object *obj, __u32 how, struct th_seq_blob *b)
{
	void *p;

	switch (how) {
	case TH_SEQ_READ:
		return tld_read_seq(obj, blob, "seq.blob", b);
	case TH_SEQ_SMALL:
		return tld_read_seq(obj, small, "seq.small", b);
	case TH_SEQ_ABSENT:
		return tld_read_seq(obj, absent, "seq.absent", b);
	}
	/* TH_SEQ_COPY: the same bytes, without the protocol. */
	p = tld_get_data(obj, blob, "seq.blob", sizeof(*b));
	if (!p)
		return -ENOENT;
	__builtin_memcpy(b, p, sizeof(*b));
	return 0;
}

static void record(int ret, const struct th_seq_blob *b)
{
	int i;

	err = ret;
	if (ret == -EBUSY)
		__sync_fetch_and_add(&busy, 1);
	if (!ret) {
		copy = *b;
		__sync_fetch_and_add(&copies, 1);
		for (i = 1; i < 7; i++)
			if (b->w[i] != b->w[0])
				break;
		if (i < 7)
			__sync_fetch_and_add(&torn, 1);
	}
	/* Last: the test waits for it to move, then looks at the rest. */
	__sync_fetch_and_add(&reads, 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(seq_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct th_seq_blob b;
	struct tld_object obj;
	__u64 arg;
	int ret;

	if (id != TH_NR_GETPGID || bpf_get_current_pid_tgid() >> 32 != tgid)
		return 0;
	arg = regs->di;
	if (arg >> 32 != TH_SEQ_MAGIC)
		return 0;
	task = bpf_task_from_pid(arg & 0xffffff);
	if (!task)
		return 0;
	ret = tld_object_init(task, &obj);
	if (!ret)
		ret = read_blob(&obj, arg >> 24 & 0xff, &b);
	bpf_task_release(task);
	record(ret, &b);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
