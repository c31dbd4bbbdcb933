// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The key registry and the meta page.
 *
 * A key is claimed by installing an immutable record in the first empty
 * slot with one compare-and-swap, so that every other creator sees the
 * complete name at once and can deduplicate without waiting. Slots fill in
 * order, so a record's data offset follows from the record before it.
 *
 * The meta page is what BPF reads. Entry i is written from record i and
 * only then does cnt move past it, so a reader never sees a covered entry
 * half-written (upstream's readers cache "entries seen" and would never
 * look at it again). Any creator helps publish every claimed slot, so
 * tld_create_key() returns with its key visible even if the thread that
 * claimed an earlier slot was preempted, and no creator ever waits.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct tld_keyrec {
	__u16 size;
	__u16 off;
	char name[TLD_NAME_LEN];
};

static struct tld_keyrec *_Atomic tld_slots[TLD_MAX_KEYS];
static struct tld_meta_u *_Atomic tld_meta_page;
static _Atomic __u64 tld_cookie;
static _Atomic bool tld_keys_dead;

/* Nonzero and different for every process image, even without ASLR. */
static __u64 tld_cookie_new(void)
{
	struct timespec ts;
	__u64 c = 0;

	if (getrandom(&c, sizeof(c), GRND_NONBLOCK) != sizeof(c)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		c = (__u64)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^
		    (__u64)ts.tv_sec << 32 ^ (__u64)getpid();
	}
	return c ? c : 1;
}

static int tld_meta_install(void)
{
	struct tld_meta_u *m, *none = NULL;
	__u64 zero = 0;

	/* The cookie goes first: whoever sees the meta page sees it too. */
	__atomic_compare_exchange_n(&tld_cookie, &zero, tld_cookie_new(), false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	m = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return tld_err(-errno, "cannot map the meta page");
	m->size = TLD_DATA_MAX;
	if (!__atomic_compare_exchange_n(&tld_meta_page, &none, m, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		munmap(m, TLD_PAGE_SIZE);
	return 0;
}

/* The process's meta page and cookie, created on first use. */
int tld_meta_get(struct tld_meta_u **meta, __u64 *cookie)
{
	int err;

	if (__atomic_load_n(&tld_keys_dead, __ATOMIC_ACQUIRE))
		return tld_err(-ESHUTDOWN, "tld_fini() was called");
	if (!__atomic_load_n(&tld_meta_page, __ATOMIC_ACQUIRE)) {
		err = tld_meta_install();
		if (err)
			return err;
	}
	*meta = __atomic_load_n(&tld_meta_page, __ATOMIC_ACQUIRE);
	*cookie = __atomic_load_n(&tld_cookie, __ATOMIC_ACQUIRE);
	return 0;
}

/*
 * Helpers may write the same entry at once; they write identical bytes,
 * and atomic stores keep that race defined. Kept out of line: its entry is
 * the point where tests check that cnt does not cover the entry yet.
 */
__attribute__((noinline))
static void tld_entry_write(struct tld_metadata *e, const struct tld_keyrec *rec)
{
	int i;

	for (i = 0; i < TLD_NAME_LEN; i++)
		__atomic_store_n(&e->name[i], rec->name[i], __ATOMIC_RELAXED);
	__atomic_store_n(&e->size, rec->size, __ATOMIC_RELAXED);
}

static void tld_meta_publish(struct tld_meta_u *m)
{
	__u16 cnt = __atomic_load_n(&m->cnt, __ATOMIC_ACQUIRE);
	struct tld_keyrec *rec;

	while (cnt < TLD_MAX_KEYS) {
		rec = __atomic_load_n(&tld_slots[cnt], __ATOMIC_ACQUIRE);
		if (!rec)
			return;
		tld_entry_write(&m->metadata[cnt], rec);
		/* Release: the entry is complete before cnt covers it. */
		if (__atomic_compare_exchange_n(&m->cnt, &cnt, cnt + 1, false,
						__ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
			cnt++;
	}
}

/* Publish slots whose creators are gone (a fork child); async-signal-safe. */
void tld_keys_publish(void)
{
	struct tld_meta_u *m = __atomic_load_n(&tld_meta_page, __ATOMIC_ACQUIRE);

	if (m)
		tld_meta_publish(m);
}

static int tld_key_check(const char *name, size_t size)
{
	size_t len = name ? strnlen(name, TLD_NAME_LEN) : 0;

	if (!len)
		return tld_err(-EINVAL, "a key name must not be empty");
	if (len > TLD_KEY_NAME_MAX)
		return tld_err(-ENAMETOOLONG, "key name '%.*s...' is longer than %d bytes",
			       TLD_KEY_NAME_MAX, name, TLD_KEY_NAME_MAX);
	if (!size || size > TLD_KEY_SIZE_MAX)
		return tld_err(-EINVAL, "key '%s': size %zu is outside 1..%d",
			       name, size, TLD_KEY_SIZE_MAX);
	return 0;
}

static struct tld_keyrec *tld_keyrec_new(const char *name, size_t size)
{
	struct tld_keyrec *rec = calloc(1, sizeof(*rec));

	if (rec) {
		rec->size = size;
		strcpy(rec->name, name);
	}
	return rec;
}

static tld_key_t tld_key_result(int err)
{
	return (tld_key_t){ .raw = err };
}

/* Claim a slot for @name, or find it; returns the slot's record. */
static int tld_key_claim(const char *name, size_t size, struct tld_keyrec **out)
{
	struct tld_keyrec *rec = NULL, *cur;
	unsigned int i, off = 0;

	for (i = 0; i < TLD_MAX_KEYS; i++) {
		cur = __atomic_load_n(&tld_slots[i], __ATOMIC_ACQUIRE);
		if (!cur) {
			if (off + TLD_ROUND_KEY(size) > TLD_DATA_MAX) {
				free(rec);
				return tld_err(-ENOSPC, "key '%s' (%zu bytes) does not fit: %u of %d data bytes are taken",
					       name, size, off, TLD_DATA_MAX);
			}
			if (!rec && !(rec = tld_keyrec_new(name, size)))
				return tld_err(-ENOMEM, "key '%s'", name);
			rec->off = off;
			if (__atomic_compare_exchange_n(&tld_slots[i], &cur, rec, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				*out = rec;
				return 0;
			}
		}
		if (!strcmp(cur->name, name)) {
			free(rec);
			*out = cur;
			return 0;
		}
		off = cur->off + TLD_ROUND_KEY(cur->size);
	}
	free(rec);
	return tld_err(-ENOSPC, "key '%s': all %d key slots are taken", name, TLD_MAX_KEYS);
}

TLD_API tld_key_t tld_create_key(const char *name, size_t size)
{
	struct tld_keyrec *rec = NULL;
	struct tld_meta_u *m;
	__u64 cookie;
	int err;

	err = tld_key_check(name, size);
	if (!err)
		err = tld_meta_get(&m, &cookie);
	if (!err)
		err = tld_key_claim(name, size, &rec);
	if (err)
		return tld_key_result(err);
	if (rec->size != size)
		return tld_key_result(tld_err(-EEXIST, "key '%s' exists with size %u, not %zu",
					      name, rec->size, size));
	tld_meta_publish(m);
	return tld_key_result(rec->off + 1);
}

/* tld_fini(): no thread may create keys any more, and BPF no longer reads. */
void tld_keys_release(void)
{
	struct tld_meta_u *m;
	int i;

	__atomic_store_n(&tld_keys_dead, true, __ATOMIC_RELEASE);
	for (i = 0; i < TLD_MAX_KEYS; i++)
		free(__atomic_exchange_n(&tld_slots[i], NULL, __ATOMIC_ACQ_REL));
	m = __atomic_exchange_n(&tld_meta_page, NULL, __ATOMIC_ACQ_REL);
	if (m)
		munmap(m, TLD_PAGE_SIZE);
}
