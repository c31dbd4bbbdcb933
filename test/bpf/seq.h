/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What test/seqcount and its reader, seq.bpf.c, share. Include after tld/abi.h. */
#ifndef TH_SEQ_H
#define TH_SEQ_H

#include "reader.h"

/*
 * getpgid(TH_SEQ_ARG(how, tid)) has the reader read thread @tid's blob
 * @how. A tid is below 2^22 (PID_MAX_LIMIT), which leaves the byte above.
 */
#define TH_SEQ_ARG(how, tid)	(TH_SEQ_MAGIC << 32 | (__u64)(how) << 24 | (__u32)(tid))

enum th_seq_how {
	TH_SEQ_READ,	/* tld_read_seq() of "seq.blob" */
	TH_SEQ_COPY,	/* a plain copy of "seq.blob" */
	TH_SEQ_SMALL,	/* tld_read_seq() of "seq.small", smaller than the blob */
	TH_SEQ_ABSENT,	/* tld_read_seq() of "seq.absent", which nobody creates */
};

/* "seq.blob": every update sets all seven words to one new value. */
struct th_seq_blob {
	struct tld_seq seq;
	__u64 w[7];
};

#endif
