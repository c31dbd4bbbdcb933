/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What tld_iter.bpf.c writes for tldtool: one record per task with an entry. */
#ifndef TLD_ITER_H
#define TLD_ITER_H

struct tld_dump_head {
	__u32 tid;
	__u32 tgid;
	char comm[16];
	__u16 start;
	__u8 vouched;		/* the entry is the one the guard vouched for */
	__u8 leaving;		/* its owner withdrew it: the thread is going */
	__u8 reserved[4];
};

/* A record: the head, then the meta page, then the data page. */
#define TLD_DUMP_META_SIZE	4036
#define TLD_DUMP_RECORD_SIZE	(sizeof(struct tld_dump_head) + TLD_DUMP_META_SIZE + 4096)

#endif
