/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent store, ABI v1: a record for every task and every cgroup in one
 * bpf_arena that BPF programs and a user-space agent both map, and the
 * indexes that find them, with no system call on either side.
 *
 * This header is compiled by gcc for user space and by clang for BPF.
 * docs/agent.md is the normative text: who writes each field, when, and
 * with what ordering. Everything in the arena is addressed by its 32-bit
 * offset from the arena's start, never by pointer, so that BPF and every
 * process read the same numbers; offset 0 is never a record.
 */
#ifndef TLD_AGENT_ABI_H
#define TLD_AGENT_ABI_H

#include <tld/abi.h>

#define TLD_AGENT_MAGIC		0x61646c74u	/* "tlda" */
#define TLD_AGENT_VERSION	1

/*
 * Where every process maps the arena. The kernel makes every mapping of an
 * arena sit at one address, so it is fixed here (the map's map_extra): 48
 * TiB, far from where Linux puts programs, libraries and mmap()s on
 * x86-64, and above AddressSanitizer's shadow (which ends near 16 TiB). Its
 * low 32 bits are 0, so an offset is the low half of an arena address.
 */
#define TLD_AGENT_ADDR		(3ull << 44)
#define TLD_AGENT_PAGE		4096
/* At most 4 GiB: offsets are 32 bits. */
#define TLD_AGENT_PAGES_MAX	(1u << 20)

enum tld_agent_kind {
	TLD_AGENT_TASK = 0,
	TLD_AGENT_CGROUP = 1,
	TLD_AGENT_KINDS
};

/*
 * A page of records of one kind starts with this; its slots follow at
 * TLD_AGENT_PAGE_HDR + i * stride. Free slots are chained through
 * tld_agent_rec.next. A page is on its kind's partial list while some of
 * its slots are free, on the empty list while all are, and on no list
 * while none is. Changed by BPF only, under the store's lock.
 */
struct tld_agent_page {
	__u32 next;		/* the list's next page, or 0 */
	__u32 prev;
	__u32 free;		/* the first free slot, or 0 */
	__u16 nfree;
	__u16 nslots;
	__u32 kind;
	__u32 list;		/* enum tld_agent_list */
};

#define TLD_AGENT_PAGE_HDR	64

enum tld_agent_list {
	TLD_AGENT_LIST_NONE = 0,
	TLD_AGENT_LIST_PARTIAL = 1,
	TLD_AGENT_LIST_EMPTY = 2,
};

/* One kind of record: its size, its pages, its index, its counters. */
struct tld_agent_kind_hdr {
	__u32 rec_size;		/* payload bytes, as created */
	__u32 stride;		/* bytes per slot: header + payload, 64-aligned */
	__u32 index;		/* offset of the index: buckets u32 slots */
	__u32 buckets;		/* power of two, at least twice the bound */
	__u32 partial;		/* the first page with free slots, or 0 */
	__u32 empty;		/* the first page with no slot used, or 0 */
	__u32 npages;		/* pages of this kind */
	__u32 nempty;		/* of which on the empty list */
	__u64 free_slots;
	__u64 live;		/* records in use */
	__u64 full;		/* records not made: the bound was reached */
	__u64 waited;		/* records not made at once: no free slot */
	__u64 made;
	__u64 freed;
	__u64 swept;		/* freed by maintenance: the object was gone */
};

/*
 * The header, at TLD_AGENT_HDR_OFF. Written once by the creator, then only
 * its counters and stacks change, by BPF (atomics) and by maintenance, and
 * top grows. Its geometry is published for readers: the keeper never reads
 * it back, it bounds its work by a copy the agent cannot write.
 */
struct tld_agent_hdr {
	__u32 magic;
	__u32 version;
	__u32 pages;		/* the arena's size, in pages */
	__u32 max_records;	/* the bound on live records, per kind */
	__u64 pages_used;	/* allocated from the kernel, header included */
	__u32 epoch;		/* maintenance passes, to find records left behind */
	__u32 data;		/* offset of the first page after the indexes */
	__u32 top;		/* end of the highest page records ever had */
	__u32 reserve;		/* free slots maintenance keeps for the hooks, per kind */
	struct tld_agent_kind_hdr kind[TLD_AGENT_KINDS];
};

#define TLD_AGENT_HDR_OFF	64

/*
 * Every record starts with this. @gen is odd while the record is live and
 * even while it is free, and grows by one at each change, so that a
 * (slot, gen) pair names one object's record for good. @id is the tid or
 * the cgroup id; @birth tells two tasks of one tid apart (the task's
 * start_time, in ns).
 */
struct tld_agent_rec {
	__u32 gen;
	__u32 next;		/* while free: the next free slot of its page */
	__u64 id;
	__u64 birth;
	__u32 epoch;		/* the last maintenance pass that saw its object */
	__u32 kind;
	__u8 payload[] __attribute__((aligned(8)));
};

#define TLD_AGENT_REC_HDR	32
#define TLD_AGENT_STRIDE(size)	((TLD_AGENT_REC_HDR + (size) + 63) & ~63u)

/*
 * An index bucket: a slot offset, or one of these. An id's record is in
 * one of the TLD_AGENT_MAX_PROBE buckets from tld_agent_bucket(), before
 * the first empty one; inserts that find none fail and are counted.
 */
#define TLD_AGENT_EMPTY		0u
#define TLD_AGENT_TOMB		1u
#define TLD_AGENT_MAX_PROBE	32

static inline __u32 tld_agent_bucket(__u64 id, __u32 buckets)
{
	return (__u32)((id * 0x9e3779b97f4a7c15ull) >> 32) & (buckets - 1);
}

/*
 * The task-storage and cgroup-storage maps' value: the object's record.
 * Both halves change together, as one 64-bit word.
 */
struct tld_agent_slot {
	__u32 slot;
	__u32 gen;
};

/* What the creator passes tld_agent_init (a syscall program), as its ctx. */
struct tld_agent_init_args {
	__u32 pages;
	__u32 max_records;
	__u32 rec_size[TLD_AGENT_KINDS];
	__u32 reserve;
	__s32 err;		/* out: 0 or -errno */
};

#ifndef __bpf__
TLD_STATIC_ASSERT(sizeof(struct tld_agent_rec) == TLD_AGENT_REC_HDR, "record header size");
TLD_STATIC_ASSERT(sizeof(struct tld_agent_hdr) + TLD_AGENT_HDR_OFF <= TLD_AGENT_PAGE,
		  "the header fits its page");
#endif

#endif /* TLD_AGENT_ABI_H */
