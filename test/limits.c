// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * 63 keys fill the meta page; the 64th is refused with -ENOSPC and a
 * message. BPF finds the first, middle and last of them at their offsets.
 *
 * Checked to fail (make mutate): refusing the 64th key with another errno
 * fails the check on it.
 */
#include <stdio.h>

#include "harness.h"

int main(void)
{
	struct reader_bpf *reader;
	tld_key_t keys[TLD_MAX_KEYS];
	struct th_result r;
	struct th_map map;
	char name[8];
	int i;

	th_map_create(&map, NULL);
	th_capture();
	for (i = 0; i < TLD_MAX_KEYS; i++) {
		snprintf(name, sizeof(name), "k%02d", i);
		keys[i] = tld_create_key(name, sizeof(__u64));
		TH_CHECK(!tld_key_err(keys[i]), "%s: %d", name, tld_key_err(keys[i]));
	}
	TH_CHECK(tld_key_err(tld_create_key("k63", 8)) == -ENOSPC, "the 64th key");
	TH_CHECK(th_captured("all 63 key slots are taken"), "message for the 64th key");
	TH_CHECK(!tld_key_err(tld_create_key("k62", 8)), "an existing key is still found");

	reader = th_reader_load();
	for (i = 0; i < TLD_MAX_KEYS; i++)
		*(__u64 *)tld_get_data(keys[i]) = 1000 + i;
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r), "BPF saw nothing");
	TH_CHECK(r.meta_cnt == TLD_MAX_KEYS, "cnt %u", r.meta_cnt);
	TH_CHECK(r.head[TH_K00] == 1000 && r.off[TH_K00] == TLD_DATA_HDR,
		 "k00: %llu at %d", r.head[TH_K00], r.off[TH_K00]);
	TH_CHECK(r.head[TH_K31] == 1031 && r.off[TH_K31] == TLD_DATA_HDR + 31 * 8,
		 "k31: %llu at %d", r.head[TH_K31], r.off[TH_K31]);
	TH_CHECK(r.head[TH_K62] == 1062 && r.off[TH_K62] == TLD_DATA_HDR + 62 * 8,
		 "k62: %llu at %d", r.head[TH_K62], r.off[TH_K62]);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
