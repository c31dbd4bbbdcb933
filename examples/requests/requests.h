/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the server and the reqtrace consumer agree on. */
#ifndef REQUESTS_H
#define REQUESTS_H

/* A worker's current request: { id, tenant }, one 8-byte store; 0 when idle. */
#define REQUEST_KEY	"request:u32[2]"

struct req_key {
	__u32 id;
	__u32 tenant;
};

struct req_stat {
	__u64 offcpu_ns;	/* blocked while serving it */
	__u64 blocks;
	__u64 syscalls;
};

#endif
