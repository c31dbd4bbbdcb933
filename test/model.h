/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The lookup rule of docs/abi.md section 4, written from the text and not
 * from tld.bpf.h, so that tests can hold the BPF reader against it.
 */
#ifndef TH_MODEL_H
#define TH_MODEL_H

#include <stdbool.h>
#include <string.h>
#include <tld/abi.h>

#include "bpf/reader.h"

/* The keys the test readers look up, by slot. */
static const struct {
	const char *name;
	unsigned int size;
} th_keys[TH_NKEYS] = {
	[TH_STATIC] = { "test.static", 8 },	[TH_DYN] = { "test.dyn", 8 },
	[TH_BLOB] = { "test.blob", 32 },	[TH_DL_KEY] = { "dl.key", 8 },
	[TH_DL_BIG] = { "dl.big", 1024 },	[TH_K00] = { "k00", 8 },
	[TH_K31] = { "k31", 8 },		[TH_K62] = { "k62", 8 },
	[TH_FILL] = { "fill.last", 8 },
};

static inline bool th_model_start_valid(unsigned int start)
{
	return start >= TLD_DATA_HDR && start < TLD_PAGE_SIZE && !(start % TLD_KEY_ALIGN);
}

/* Where @name (of at least @size bytes) lies in the page, or -1. */
static inline int th_model_lookup(const struct tld_meta_u *meta, unsigned int start,
				  const char *name, unsigned int size)
{
	unsigned int cnt = meta->cnt < TLD_MAX_KEYS ? meta->cnt : TLD_MAX_KEYS;
	unsigned int i, off = 0, sz;

	for (i = 0; i < cnt; i++) {
		sz = meta->metadata[i].size;
		if (sz >= size && !strncmp(meta->metadata[i].name, name, TLD_NAME_LEN))
			return start + off + size <= TLD_PAGE_SIZE ? (int)(start + off) : -1;
		off += TLD_ROUND_KEY(sz);
		if (off > TLD_DATA_MAX)
			return -1;
	}
	return -1;
}

#endif
