// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Keys that fill the data area to the last byte of the page: the last one
 * ends at the page's end and BPF reads it there; one byte more is refused.
 * Sizes round up to 8, so 4000 + 79 + 8 bytes take all 4088.
 *
 * Checked to fail (make mutate): with 8 bytes more allowed in
 * tld_key_claim(), "fill.more" is accepted.
 */
#include <string.h>

#include "harness.h"

int main(void)
{
	tld_key_t big, mid, last;
	struct reader_bpf *reader;
	struct th_result r;
	struct th_map map;
	char *p;

	th_map_create(&map, NULL);
	th_capture();
	big = tld_create_key("fill.big", 4000);
	mid = tld_create_key("fill.mid", 79);
	last = tld_create_key("fill.last", 8);
	TH_CHECK(!tld_key_err(big) && !tld_key_err(mid) && !tld_key_err(last), "the keys fit");
	TH_CHECK(tld_key_err(tld_create_key("fill.more", 1)) == -ENOSPC, "one byte more");
	TH_CHECK(th_captured("does not fit: 4088 of the 4088 data bytes per thread are taken"), "its message");

	/* Every byte of the area is writable: the page is the thread's. */
	p = tld_get_data(big);
	memset(p, 0xa5, 4000);
	memset(tld_get_data(mid), 0x5a, 79);
	*(__u64 *)tld_get_data(last) = 0x1122334455667788ull;
	TH_CHECK((char *)tld_get_data(last) + 8 - p == 4088, "the area is 4088 bytes");

	reader = th_reader_load();
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r), "BPF saw nothing");
	TH_CHECK(r.off[TH_FILL] == TLD_PAGE_SIZE - 8, "fill.last at %d", r.off[TH_FILL]);
	TH_CHECK(r.head[TH_FILL] == 0x1122334455667788ull, "fill.last %llx", r.head[TH_FILL]);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
