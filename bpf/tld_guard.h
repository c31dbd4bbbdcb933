/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the guard and tldtool share: the guard's settings and counters. */
#ifndef TLD_GUARD_H
#define TLD_GUARD_H

struct tld_guard_state {
	__u32 sweep;		/* set by tldtool: remove entries nobody vouched for */
	__u32 reserved;
	__u64 vouched;		/* entries vouched for */
	__u64 refused;		/* vouches for another process's task, refused */
	__u64 mismatched;	/* commits whose entry was not the announced one */
	__u64 withdrawn;
	__u64 swept;		/* unvouched entries removed */
	__u64 erased;		/* vouched entries deleted or replaced by someone else */
	__u64 busy;		/* tasks queued for a retry: their sweep lost to another
				 * task-storage operation (-EBUSY); once while queued */
	__u64 retried;		/* entries a retry removed */
	__u64 unqueued;		/* refusals left to the task's next wakeup: the queue was full */
};

/* How many lost sweeps wait for a retry at once. */
#define TLD_GUARD_RETRY_SLOTS	64

#endif
