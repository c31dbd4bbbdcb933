// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libFuzzer over tld.bpf.h's reader, the same code the BPF programs run,
 * compiled for user space (fuzz/bpf_shim.h). The input is a map value's
 * start, a meta page and a later rewrite of it. The meta page is allocated
 * at its BTF size and the data page at a page, so that ASan stops any read
 * the verifier would refuse. Every lookup must agree with test/model.h, and
 * after the meta page changes under a cached key (which the ABI forbids),
 * pointers must still stay inside the data area.
 *
 * Checked to fail (make mutate): dropping "sz >= size" in __tld_fetch_key()
 * is found as a model mismatch; dropping the cnt clamp (by hand), as an
 * ASan read past the meta page.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bpf_shim.h"
#include <tld/tld.bpf.h>

#include "../model.h"

struct tld_keys {
	tld_key_t k[TH_NKEYS];
};

static struct tld_map_value value;
static struct tld_verdict verdict;
static struct tld_key_cache cache;

void *bpf_task_storage_get(void *map, struct task_struct *task, void *init, __u64 flags)
{
	(void)task;
	(void)init;
	(void)flags;
	if (map == &tld_data_map)
		return &value;
	return map == &tld_guard_map ? (void *)&verdict : (void *)&cache;
}

static void fail(const char *what, int k, long got, long want)
{
	fprintf(stderr, "%s: %s at %ld, want %ld\n", what, th_keys[k].name, got, want);
	abort();
}

#define LOOKUP(slot, name, size, check_model)					\
	do {									\
		char *p = tld_get_data(&obj, k[slot], name, size);		\
		long at = p ? p - (char *)value.data : -1;			\
		int want = th_model_lookup(value.meta, value.start, name, size);	\
										\
		if (p && (at < value.start || at + (size) > TLD_PAGE_SIZE))	\
			fail("outside the data area", slot, at, want);		\
		if ((check_model) && at != want)				\
			fail("model", slot, at, want);				\
	} while (0)

static void lookup_all(bool check_model)
{
	static struct task_struct task;
	struct tld_object obj;

	if (tld_object_init(&task, &obj)) {
		if (th_model_start_valid(value.start))
			fail("init refused a valid start", 0, value.start, 0);
		return;
	}
	LOOKUP(TH_STATIC, "test.static", 8, check_model);
	LOOKUP(TH_DYN, "test.dyn", 8, check_model);
	LOOKUP(TH_BLOB, "test.blob", 32, check_model);
	LOOKUP(TH_DL_KEY, "dl.key", 8, check_model);
	LOOKUP(TH_DL_BIG, "dl.big", 1024, check_model);
	LOOKUP(TH_K00, "k00", 8, check_model);
	LOOKUP(TH_K31, "k31", 8, check_model);
	LOOKUP(TH_K62, "k62", 8, check_model);
	LOOKUP(TH_FILL, "fill.last", 8, check_model);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	struct tld_data_u *data = calloc(1, sizeof(*data));
	struct tld_meta_u *meta = calloc(1, sizeof(*meta));
	size_t n;

	if (len < 2)
		goto out;
	value = (struct tld_map_value){ .data = data, .meta = meta };
	value.start = in[0] | in[1] << 8;
	/* The guard vouched for this entry; the lookup is what is fuzzed. */
	verdict = (struct tld_verdict){ .data = (__u64)data, .meta = (__u64)meta,
					.start = value.start };
	data->unused = len;
	memset(&cache, 0, sizeof(cache));
	in += 2;
	len -= 2;
	n = len < sizeof(*meta) ? len : sizeof(*meta);
	memcpy(meta, in, n);
	lookup_all(true);
	lookup_all(true);
	/* What remains rewrites the page under the cache: bounds only. */
	if (len > n) {
		memcpy(meta, in + n, len - n < sizeof(*meta) ? len - n : sizeof(*meta));
		lookup_all(false);
	}
out:
	free(meta);
	free(data);
	return 0;
}
