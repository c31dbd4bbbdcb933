// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Group 2 through the kernel selftests' task_local_data.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "upstream_tld.bpf.h"

struct tld_keys {
	tld_key_t hint;
};

__u64 sum;

SEC("uprobe")
int BPF_UPROBE(read_upstream)
{
	struct tld_object obj;
	__u64 *p;

	if (tld_object_init(bpf_get_current_task_btf(), &obj))
		return 0;
	p = tld_get_data(&obj, hint, "bench.hint", 8);
	if (p)
		sum += *p;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
