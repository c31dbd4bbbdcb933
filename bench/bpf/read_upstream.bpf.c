// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Group 2 through the kernel selftests' task_local_data.bpf.h. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "upstream_tld.bpf.h"

#include "read.h"

struct tld_keys {
	tld_key_t hint;
};

__u64 sum;

/* Zeroed: in a loop the verifier also walks the header's retry loop unrun. */
READ_PROGS(read_upstream, {
	struct tld_object obj = {};
	__u64 *p;

	if (!tld_object_init(task, &obj)) {
		p = tld_get_data(&obj, hint, "bench.hint", 8);
		if (p)
			v = *p;
	}
})

char LICENSE[] SEC("license") = "GPL";
