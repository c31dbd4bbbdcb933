/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the hints application and the hintstat consumer agree on. */
#ifndef HINTS_H
#define HINTS_H

#define HINT_CLASS_KEY		"hint.class"
#define HINT_REQUEST_KEY	"hint.request"

enum {
	HINT_BATCH,
	HINT_NORMAL,
	HINT_LATENCY,
	HINT_CLASSES,
	HINT_NONE = HINT_CLASSES,	/* a task with tld data but no class */
};

struct hint_thread {
	__u32 tgid;
	__u32 class;		/* last class BPF read, HINT_NONE if none */
	__u64 request;		/* last request id BPF read */
	__u64 cpu_ns;
	__u64 switches;
	__u64 wakeups;
	__u64 wait_ns;		/* run-queue wait, wakeup to switch-in */
};

/* Run-queue wait per class: a log2 histogram of nanoseconds. */
#define HINT_WAIT_BUCKETS	40

struct hint_waits {
	__u64 count;
	__u64 sum_ns;
	__u64 bucket[HINT_WAIT_BUCKETS];	/* [i]: waits in [2^i, 2^(i+1)) ns */
};

#ifndef __bpf__
static inline const char *hint_class_name(unsigned int class)
{
	static const char *const names[] = { "batch", "normal", "latency", "none" };

	return class <= HINT_NONE ? names[class] : "?";
}
#endif

#endif
