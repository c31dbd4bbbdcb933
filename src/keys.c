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
 *
 * Keys are never deleted. A BPF reader may have cached a key's offset for
 * any task, and every thread's value stays where it is; a freed slot reused
 * by another key would hand old readers the new key's bytes. So a key lives
 * as long as the process image, and tld_fini() releases them all at once,
 * after every creator has left (tld__enter()).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct tld_keyrec {
	__u16 size;
	__u16 off;
	char name[TLD_NAME_LEN];
};

static struct tld_keyrec *tld_slots[TLD_MAX_KEYS];
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
void tld__keys_publish(void)
{
	struct tld_meta_u *m = tld__store_meta_peek();

	if (m)
		tld_meta_publish(m);
}

static int tld_key_check(const char *name, size_t size)
{
	size_t len = name ? strnlen(name, TLD_NAME_LEN) : 0;

	if (!len)
		return tld__err(-EINVAL, "a key name must not be empty");
	if (len > TLD_KEY_NAME_MAX)
		return tld__err(-ENAMETOOLONG, "key name '%.*s...' is longer than %d bytes",
			       TLD_KEY_NAME_MAX, name, TLD_KEY_NAME_MAX);
	if (!size || size > TLD_KEY_SIZE_MAX)
		return tld__err(-EINVAL, "key '%s': size %zu is outside 1..%d",
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

/*
 * Claim a slot for @name, or find it. Inside tld__enter(), so it says
 * nothing: -ENOSPC with *@off the data bytes taken (or TLD_MAX_KEYS slots
 * taken if *@off fits), or -ENOMEM.
 */
static int tld_key_claim(const char *name, size_t size, struct tld_keyrec **out,
			 unsigned int *off)
{
	struct tld_keyrec *rec = NULL, *cur;
	unsigned int i;

	*off = 0;
	for (i = 0; i < TLD_MAX_KEYS; i++) {
		cur = __atomic_load_n(&tld_slots[i], __ATOMIC_ACQUIRE);
		if (!cur) {
			if (*off + TLD_ROUND_KEY(size) > (unsigned int)tld__store_area())
				break;
			if (!rec && !(rec = tld_keyrec_new(name, size)))
				return -ENOMEM;
			rec->off = *off;
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
		*off = cur->off + TLD_ROUND_KEY(cur->size);
	}
	free(rec);
	return -ENOSPC;
}

/* Claim and publish @name; the key's offset, or -errno for tld_key_say(). */
static int tld_key_make(const char *name, size_t size, unsigned int *off)
{
	struct tld_keyrec *rec;
	struct tld_meta_u *m;
	int err;

	if (!tld__enter())
		return -ESHUTDOWN;
	err = tld__store_meta(&m);
	if (!err)
		err = tld_key_claim(name, size, &rec, off);
	if (!err && rec->size != size) {
		*off = rec->size;
		err = -EEXIST;
	}
	if (!err) {
		tld_meta_publish(m);
		err = rec->off;
	}
	tld__leave();
	return err;
}

static int tld_key_say(int err, const char *name, size_t size, unsigned int off)
{
	int area = tld__store_area();

	switch (err) {
	case -ESHUTDOWN:
		return tld__err(err, "key '%s': tld_fini() was called", name);
	case -EEXIST:
		return tld__err(err, "key '%s' exists with size %u, not %zu", name, off, size);
	case -ENOSPC:
		if (off + TLD_ROUND_KEY(size) > (unsigned int)area)
			return tld__err(err, "key '%s' (%zu bytes) does not fit: %u of the %d data bytes per thread are taken%s",
					name, size, off, area,
					area < TLD_DATA_MAX ? " (the compact layout)" : "");
		return tld__err(err, "key '%s': all %d key slots are taken", name, TLD_MAX_KEYS);
	default:
		return tld__err(err, "key '%s': cannot map the meta page or allocate its record",
				name);
	}
}

TLD_API tld_key_t tld_create_key(const char *name, size_t size)
{
	unsigned int off = 0;
	int ret;

	ret = tld_key_check(name, size);
	if (ret)
		return tld_key_result(ret);
	ret = tld_key_make(name, size, &off);
	if (ret < 0)
		return tld_key_result(tld_key_say(ret, name, size, off));
	return tld_key_result(ret + 1);
}

/* tld_fini(), once no creator is inside tld__enter() and none can enter. */
void tld__keys_release(void)
{
	struct tld_meta_u *m;
	int i;

	for (i = 0; i < TLD_MAX_KEYS; i++) {
		free(tld_slots[i]);
		tld_slots[i] = NULL;
	}
	m = tld__store_meta_peek();
	if (m)
		tld__store_page_empty(m);
}
