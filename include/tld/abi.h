/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tld wire format, ABI v1: the layout user space and BPF programs share.
 * It is the upstream "task local data" layout, so readers written against
 * the kernel selftests' task_local_data.bpf.h read it unchanged.
 *
 * This header is compiled by gcc for user space and by clang for BPF (after
 * vmlinux.h). docs/abi.md is the normative text: owners, writers and memory
 * ordering of every field.
 */
#ifndef TLD_ABI_H
#define TLD_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define TLD_ABI_VERSION		1

/* The same layout checks from C11 and from C++ (tld.h is for both). */
#ifdef __cplusplus
#define TLD_STATIC_ASSERT(cond, msg)	static_assert(cond, msg)
#else
#define TLD_STATIC_ASSERT(cond, msg)	_Static_assert(cond, msg)
#endif

/* ABI v1 is defined for 4 KiB pages; libtld refuses other page sizes. */
#define TLD_PAGE_SIZE		4096
#define TLD_NAME_LEN		62
#define TLD_KEY_ALIGN		8
/* Header bytes before the data area: tld_data_u.unused, the cookie. */
#define TLD_DATA_HDR		8
/*
 * A process image's cookie: random in its high half, the data area's
 * start in its low half, because scx's copy of the upstream header reads
 * the page's first u64 as that start (into an int: the low half).
 */
#define TLD_COOKIE(random32)	((__u64)(random32) << 32 | TLD_DATA_HDR)
#define TLD_DATA_MAX		(TLD_PAGE_SIZE - TLD_DATA_HDR)
/* One meta page holds a 4-byte header and 64-byte entries. */
#define TLD_MAX_KEYS		63

#define TLD_ROUND_KEY(size)	(((size) + TLD_KEY_ALIGN - 1) & ~(TLD_KEY_ALIGN - 1))

#ifdef __bpf__
#ifndef __uptr
#define __uptr __attribute__((btf_type_tag("uptr")))
#endif
#else
#define __uptr
#endif

/*
 * One published key. @size is the key's size in bytes; an entry covered by
 * tld_meta_u.cnt always has a non-zero size and a NUL-terminated name.
 */
struct tld_metadata {
	char name[TLD_NAME_LEN];
	__u16 size;
};

/*
 * The meta page, one per process image, page-aligned. Entries [0, cnt) are
 * published and never change; key i's data offset is the sum of
 * TLD_ROUND_KEY(size) over the entries before it.
 */
struct tld_meta_u {
	__u16 cnt;
	__u16 size;	/* user space only: data area capacity per thread */
	struct tld_metadata metadata[TLD_MAX_KEYS];
};

/*
 * A thread's data page. The kernel's header calls the first u64 "unused",
 * scx's copy calls it "start" (the data area's offset); tld stores the
 * process image's cookie there, TLD_COOKIE(), which is both: readers can
 * tell a cached offset from a previous image (after exec) from a current
 * one, and readers of scx's layout find the start. Zero means "no cookie".
 */
struct tld_data_u {
	__u64 unused;
	char data[TLD_DATA_MAX] __attribute__((aligned(8)));
};

/*
 * The task-storage map value, keyed by a pidfd. @data is the page-aligned
 * address of the thread's data page and @start the in-page offset of the
 * data area; the kernel turns both pointers into pinned kernel addresses.
 */
struct tld_map_value {
	struct tld_data_u __uptr *data;
	struct tld_meta_u __uptr *meta;
	__u16 start;
};

/*
 * Optional, per key: a value whose fields must be read together starts with
 * this counter. Its writer makes it odd before changing the value and even
 * again after; a reader copies the value and uses the copy only if the
 * counter was even and unchanged around the copy.
 */
struct tld_seq {
	__u32 seq;
	__u32 reserved;
};

/*
 * The guard. The kernel lets any process that can open the map attach its
 * own pages to any task. So a thread vouches for its entry: it calls
 *
 *	prctl(PR_SET_NAME, its own current name, TLD_VOUCH(op), cookie, tid)
 *
 * which leaves its name as it was, and the guard's tp_btf/task_rename
 * program records the result in tld_guard_map. It acts only for a tid in
 * the caller's thread group, or for any tid if the caller is privileged.
 * Readers trust an entry only if it is the vouched one.
 */
#define TLD_VOUCH_MAGIC		0x746c6476ull	/* "tldv" */
#define TLD_VOUCH(op)		(TLD_VOUCH_MAGIC << 32 | (op))

enum tld_vouch_op {
	TLD_VOUCH_ANNOUNCE = 1,	/* an entry with this cookie is on its way */
	TLD_VOUCH_COMMIT = 2,	/* the entry attached now, if its cookie matches */
	TLD_VOUCH_WITHDRAW = 3,	/* the entry is going away */
};

/*
 * Once COMMIT has recorded the entry, the guard flips this bit of the data
 * page's cookie (in its random half), so the thread learns with no other
 * system call that its entry was still there to vouch for.
 */
#define TLD_COOKIE_VOUCHED	(1ull << 32)

/*
 * tld_guard_map's value: the vouched entry, as the kernel holds it (the
 * pinned pages' kernel addresses), and the announced cookie. Written by the
 * guard only.
 */
struct tld_verdict {
	__u64 data;
	__u64 meta;
	__u64 pending;
	__u16 start;
	__u16 withdrawn;	/* 1: the owner withdrew it, its entry is going */
	__u32 voucher;		/* tgid that vouched */
};

#ifndef __bpf__
TLD_STATIC_ASSERT(sizeof(struct tld_metadata) == 64, "tld_metadata is 64 bytes");
TLD_STATIC_ASSERT(TLD_MAX_KEYS == TLD_PAGE_SIZE / sizeof(struct tld_metadata) - 1,
		  "as many entries as fit a page after the header");
TLD_STATIC_ASSERT(sizeof(struct tld_meta_u) <= TLD_PAGE_SIZE, "tld_meta_u fits a page");
TLD_STATIC_ASSERT(sizeof(struct tld_data_u) == TLD_PAGE_SIZE, "tld_data_u is a page");
TLD_STATIC_ASSERT(sizeof(struct tld_map_value) == 24, "map value is 24 bytes");
TLD_STATIC_ASSERT(sizeof(struct tld_verdict) == 32, "verdict is 32 bytes");
#endif

#endif /* TLD_ABI_H */
