/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The protocol between libtld and tldd, the registration broker of strict
 * mode (docs/security.md). Both sides build it from this header; its
 * version changes with any change to it.
 *
 * A SOCK_SEQPACKET Unix socket, one connection per process image. Each
 * request is one struct tld_broker_req carrying one descriptor
 * (SCM_RIGHTS); tldd answers each with one struct tld_broker_rep, in
 * order. A thread is named by its pidfd (PIDFD_THREAD), never by number, so
 * tldd checks and updates the very task the client meant; tldd takes the
 * calling process from the socket (SO_PEERPIDFD), never from the request.
 */
#ifndef TLD_BROKER_H
#define TLD_BROKER_H

#include <linux/types.h>

#include "tld/abi.h"

/* $TLD_SOCKET overrides it. */
#define TLD_BROKER_SOCKET	"/run/tldd.sock"
#define TLD_BROKER_MAGIC	0x42444c54u	/* "TLDB" */
#define TLD_BROKER_VERSION	1

enum tld_broker_op {
	/* fd: the process's store, a memfd sealed F_SEAL_SHRINK. First, once. */
	TLD_BROKER_HELLO = 1,
	/* fd: the thread's pidfd. Point its entry at data_off, meta_off, start. */
	TLD_BROKER_ATTACH,
	/* fd: the thread's pidfd. Remove its entry. */
	TLD_BROKER_DETACH,
	/* fd: the thread's pidfd. ret 1 if it has an entry, 0 if not. */
	TLD_BROKER_QUERY,
};

struct tld_broker_req {
	__u32 magic;
	__u16 version;
	__u16 op;
	__u64 data_off;		/* offsets in the store's file, page-aligned */
	__u64 meta_off;
	__u32 start;
	__u32 pad;		/* zero */
};

struct tld_broker_rep {
	__u32 magic;
	__u16 version;
	__u16 op;		/* the request's */
	__s32 ret;		/* >= 0, or -errno */
	char msg[116];		/* if ret < 0: why, NUL-terminated */
};

/*
 * The most of a store's file tldd maps: the most libtld's store grows to
 * (TLD_MAX_CHUNKS * TLD_CHUNK_PAGES pages, src/internal.h).
 */
#define TLD_BROKER_STORE_MAX	(256ull * 256 * TLD_PAGE_SIZE)

#endif /* TLD_BROKER_H */
