// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Key semantics: the same name and size is the same key, wherever it is
 * created; another size is -EEXIST; bad names and sizes are refused with a
 * message naming the problem; invalid keys give NULL, never a pointer.
 *
 * Checked to fail (make mutate): without the name lookup in
 * tld_key_claim(), the second "test.dyn" gets its own slot.
 */
#include <string.h>

#include "harness.h"

/* Two definitions of one name, as two libraries would write them. */
TLD_DEFINE_KEY(static_a, "test.static", sizeof(__u64));
TLD_DEFINE_KEY(static_b, "test.static", sizeof(__u64));

static void check_refused(tld_key_t key, int err, const char *msg)
{
	TH_CHECK(tld_key_err(key) == err, "got %d, want %d", tld_key_err(key), err);
	TH_CHECK(tld_get_data(key) == NULL, "an invalid key gave a pointer");
	TH_CHECK(th_captured(msg), "no message containing '%s'", msg);
}

int main(void)
{
	char name[TLD_KEY_NAME_MAX + 2];
	struct reader_bpf *reader;
	struct th_result r;
	tld_key_t a, b, zero = { 0 };
	struct th_map map;
	__u64 *p;

	th_map_create(&map, NULL);
	th_capture();

	TH_CHECK(!tld_key_err(static_a) && static_a.raw == static_b.raw,
		 "two definitions: %d and %d", static_a.raw, static_b.raw);
	a = tld_create_key("test.dyn", 8);
	b = tld_create_key("test.dyn", 8);
	TH_CHECK(!tld_key_err(a) && a.raw == b.raw, "same name, same size: %d and %d", a.raw, b.raw);
	TH_CHECK(tld_create_key("test.static", 8).raw == static_a.raw, "dynamic meets static");

	check_refused(tld_create_key("test.dyn", 16), -EEXIST, "exists with size 8, not 16");
	check_refused(tld_create_key("", 8), -EINVAL, "must not be empty");
	check_refused(tld_create_key(NULL, 8), -EINVAL, "must not be empty");
	check_refused(tld_create_key("zero", 0), -EINVAL, "size 0 is outside 1..4088");
	check_refused(tld_create_key("huge", 4089), -EINVAL, "size 4089 is outside 1..4088");
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	check_refused(tld_create_key(name, 8), -ENAMETOOLONG, "is longer than 61 bytes");
	name[TLD_KEY_NAME_MAX] = '\0';
	TH_CHECK(!tld_key_err(tld_create_key(name, 8)), "a 61-byte name is allowed");
	TH_CHECK(tld_key_err(zero) == -EINVAL && tld_get_data(zero) == NULL,
		 "a zeroed key is not a key");

	/* BPF finds each of them, once, under its name. */
	reader = th_reader_load();
	p = tld_get_data(a);
	*p = 42;
	*(__u64 *)tld_get_data(static_b) = 43;
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r), "BPF saw nothing");
	TH_CHECK(r.head[TH_DYN] == 42 && r.head[TH_STATIC] == 43, "BPF read %llu and %llu",
		 r.head[TH_DYN], r.head[TH_STATIC]);
	TH_CHECK(r.meta_cnt == 3, "%u entries published, want 3", r.meta_cnt);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
