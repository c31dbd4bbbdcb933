// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A reader written against the kernel selftests' task_local_data.bpf.h,
 * extracted at build time, or, built with TH_SCX_LAYOUT (compat_scx),
 * against the layout of scx's copy (shim/scx_tld.bpf.h). It knows nothing
 * of tld: it reuses the pinned map and must read libtld's values.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifdef TH_SCX_LAYOUT
#include "scx_tld.bpf.h"
#else
#include "upstream_tld.bpf.h"
#endif

#include "reader.h"

struct tld_keys {
	tld_key_t value_static;
	tld_key_t value_dyn;
	tld_key_t value_blob;
	tld_key_t value_late;
};


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct th_compat_result);
} compat_results SEC(".maps");

static __always_inline void compat_read(struct task_struct *task)
{
	static const struct th_compat_result zero;
	struct tld_object tld_obj;
	struct th_compat_result *r;
	__u32 tid = task->pid;
	__u64 *v;

	bpf_map_update_elem(&compat_results, &tid, &zero, BPF_NOEXIST);
	r = bpf_map_lookup_elem(&compat_results, &tid);
	if (!r)
		return;
	r->hits++;
	r->init_err = tld_object_init(task, &tld_obj);
	if (r->init_err)
		return;
	v = tld_get_data(&tld_obj, value_static, "test.static", 8);
	if (v) {
		r->value_static = *v;
		r->found |= 1;
	}
	v = tld_get_data(&tld_obj, value_dyn, "test.dyn", 8);
	if (v) {
		r->value_dyn = *v;
		r->found |= 2;
	}
	v = tld_get_data(&tld_obj, value_blob, "test.blob", 32);
	if (v) {
		r->blob_first = v[0];
		r->blob_last = v[3];
		r->found |= 4;
	}
	v = tld_get_data(&tld_obj, value_late, "compat.late", 8);
	if (v) {
		r->value_late = *v;
		r->found |= 8;
	} else {
		r->found &= ~8;
	}
}

SEC("tp_btf/sys_enter")
int BPF_PROG(compat_sys_enter, struct pt_regs *regs, long id)
{
	if (id != TH_NR_GETPGID || regs->di != TH_MAGIC << 32)
		return 0;
	compat_read(bpf_get_current_task_btf());
	th_ack();
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
