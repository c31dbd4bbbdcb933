/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the test readers record, shared by the BPF programs and the tests. */
#ifndef TH_READER_H
#define TH_READER_H

/*
 * th_mark() is getpgid() with this in the upper half of its argument: no
 * other program calls it so, so readers need no other filter.
 */
#define TH_MAGIC	0x544c44ull
#define TH_NR_GETPGID	121	/* x86-64 */
/* th_store(): the reader stores the second argument into the caller's test.static. */
#define TH_STORE_MAGIC	0x544c46ull
/* Likewise for test/seqcount's reader (seq.h). */
#define TH_SEQ_MAGIC	0x544c45ull

/*
 * Since 6.14 syscall tracepoints run BPF preemptibly, and the kernel skips
 * a program entered on a CPU where another task sits preempted inside it
 * (its recursion_misses). So each reader counts the marks it saw, by the
 * marking thread's tid, and th_mark() repeats a mark no reader counted.
 */
#define TH_ACKS		(1u << 16)

#ifdef __BPF__
__u32 th_acks[TH_ACKS];

static __always_inline void th_ack(void)
{
	__sync_fetch_and_add(&th_acks[(__u32)bpf_get_current_pid_tgid() & (TH_ACKS - 1)], 1);
}
#endif

/* The keys the reader looks up, by slot. */
enum {
	TH_STATIC,	/* "test.static", 8 bytes */
	TH_DYN,		/* "test.dyn", 8 bytes */
	TH_BLOB,	/* "test.blob", 32 bytes */
	TH_DL_KEY,	/* "dl.key", 8 bytes, defined by a dlopen'ed library */
	TH_DL_BIG,	/* "dl.big", 1024 bytes, likewise */
	TH_K00,		/* "k00": the first of 63 keys, 8 bytes */
	TH_K31,		/* "k31" */
	TH_K62,		/* "k62": the last */
	TH_FILL,	/* "fill.last": the key that ends the page, 8 bytes */
	TH_NKEYS
};

/* One per task read, keyed by its tid. */
struct th_result {
	__s32 init_err;		/* tld_object_init() */
	__u32 hits;
	__u32 meta_cnt;		/* cnt as seen */
	__u32 torn;		/* covered entries seen without a name or size, summed over hits */
	__s32 off[TH_NKEYS];	/* in-page offset of the value; -1: NULL */
	__u64 head[TH_NKEYS];	/* its first 8 bytes */
	__u64 tail[TH_NKEYS];	/* its last 8 bytes */
};

/* What the upstream-header reader (compat.bpf.c) saw, keyed by tid. */
struct th_compat_result {
	int init_err;
	__u32 hits;
	__u64 value_static;
	__u64 value_dyn;
	__u64 blob_first;
	__u64 blob_last;
	__u64 value_late;
	__u32 found;		/* bit per value above, in order */
};

/* Filled by the publication probe (uprobe on libtld's tld_entry_write). */
struct th_publish {
	__u64 writes;		/* entry writes observed */
	__u64 torn;		/* covered entries incomplete when one was being written */
};

#endif
