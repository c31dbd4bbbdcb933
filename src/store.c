// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process's pages: the meta page and every thread's data page, all in
 * one memfd. A memfd and not anonymous memory, so that a broker (tldd) can
 * map the very pages this process writes and have the kernel pin them from
 * its own address space; a direct registration pins them from ours.
 *
 * The file grows in chunks of TLD_CHUNK_PAGES, each mapped once, so that
 * neither this process nor tldd needs a mapping per thread. Page 0 is the
 * meta page; the others are handed to threads and given back when they
 * exit. A page given back is punched out of the file: a BPF store that
 * lands after its entry is gone hits the old page, which the kernel still
 * pins, never the zeroed page the slot's next thread gets.
 *
 * The store is made once, by the first caller, which may be a lock-free
 * key creator; the others wait for it (state). Slots, chunks and the fork
 * child's copy are changed with the process lock held.
 */
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "broker.h"
#include "internal.h"
#include "syscall.h"

#define TLD_CHUNK_BYTES	((off_t)TLD_CHUNK_PAGES * TLD_PAGE_SIZE)
#define TLD_LONG_BITS	(8 * (int)sizeof(unsigned long))

TLD_STATIC_ASSERT(TLD_BROKER_STORE_MAX == (__u64)TLD_MAX_CHUNKS * TLD_CHUNK_BYTES,
		  "tldd maps exactly the most a store grows to");

enum { TLD_STORE_NONE, TLD_STORE_MAKING, TLD_STORE_READY };

static int tld_store_state;
static int tld_store_fd = -1;
static char *tld_chunks[TLD_MAX_CHUNKS];
static int tld_nchunks;
static unsigned long tld_used[TLD_MAX_CHUNKS * TLD_CHUNK_PAGES / TLD_LONG_BITS];

static int tld_memfd(void)
{
	int fd = tld_sys_result(syscall(__NR_memfd_create, "tld",
					MFD_CLOEXEC | MFD_ALLOW_SEALING));

	if (fd < 0)
		return fd;
	/* tldd maps the file and pins its pages: it must never shrink under it. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		tld_sys_close(fd);
		return -errno;
	}
	return fd;
}

/* Map chunk @i of @fd at @at (MAP_FIXED) or anywhere (NULL). */
static char *tld_chunk_map(int fd, int i, void *at)
{
	void *p = mmap(at, TLD_CHUNK_BYTES, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (at ? MAP_FIXED : 0), fd, i * TLD_CHUNK_BYTES);

	return p == MAP_FAILED ? NULL : p;
}

static int tld_chunk_add(void)
{
	int i = tld_nchunks;
	char *p;

	if (i == TLD_MAX_CHUNKS)
		return tld__err(-ENOSPC, "all %d pages of this process's store are taken: libtld registers at most %d threads per process",
				TLD_MAX_CHUNKS * TLD_CHUNK_PAGES, TLD_MAX_CHUNKS * TLD_CHUNK_PAGES - 1);
	if (ftruncate(tld_store_fd, (i + 1) * TLD_CHUNK_BYTES))
		return tld__err(-errno, "cannot grow the page store to %d MiB",
				(int)((i + 1) * TLD_CHUNK_BYTES >> 20));
	p = tld_chunk_map(tld_store_fd, i, NULL);
	if (!p)
		return tld__err(-errno, "cannot map the page store's chunk %d", i);
	tld_chunks[i] = p;
	tld_nchunks = i + 1;
	return 0;
}

static int tld_store_make(void)
{
	int err = tld__fork_hooks_setup(), fd;

	if (err)
		return err;
	fd = tld_memfd();
	if (fd < 0)
		return tld__err(fd, "cannot make the page store (memfd_create)");
	tld_store_fd = fd;
	tld_used[0] = 1;	/* the meta page */
	err = tld_chunk_add();
	if (!err)
		((struct tld_meta_u *)tld_chunks[0])->size = TLD_DATA_MAX;
	return err;
}

/* Make the store if nobody has; 0 once it exists. */
static int tld_store_ready(void)
{
	int state = TLD_STORE_NONE, err;

	while (!__atomic_compare_exchange_n(&tld_store_state, &state, TLD_STORE_MAKING,
					    false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
		if (state == TLD_STORE_READY)
			return 0;
		sched_yield();
		state = TLD_STORE_NONE;
	}
	err = tld_store_make();
	if (err && tld_store_fd >= 0) {
		tld_sys_close(tld_store_fd);
		tld_store_fd = -1;
	}
	__atomic_store_n(&tld_store_state, err ? TLD_STORE_NONE : TLD_STORE_READY,
			 __ATOMIC_RELEASE);
	return err;
}

int tld__store_meta(struct tld_meta_u **meta)
{
	int err = tld_store_ready();

	if (err)
		return err;
	*meta = (struct tld_meta_u *)tld_chunks[0];
	return 0;
}

/* The meta page if the store exists, else NULL; never makes it. */
struct tld_meta_u *tld__store_meta_peek(void)
{
	if (__atomic_load_n(&tld_store_state, __ATOMIC_ACQUIRE) != TLD_STORE_READY)
		return NULL;
	return (struct tld_meta_u *)tld_chunks[0];
}

static char *tld_slot_page(int slot)
{
	return tld_chunks[slot / TLD_CHUNK_PAGES] + (off_t)(slot % TLD_CHUNK_PAGES) * TLD_PAGE_SIZE;
}

static int tld_slot_free(void)
{
	int w, n = tld_nchunks * TLD_CHUNK_PAGES / TLD_LONG_BITS;

	for (w = 0; w < n; w++)
		if (~tld_used[w])
			return w * TLD_LONG_BITS + __builtin_ctzl(~tld_used[w]);
	return -1;
}

/* A zeroed data page of the store's, for a thread. Lock held. */
int tld__store_page_get(struct tld_data_u **page)
{
	int err = tld_store_ready(), slot;

	if (err)
		return err;
	slot = tld_slot_free();
	if (slot < 0) {
		err = tld_chunk_add();
		if (err)
			return err;
		slot = tld_slot_free();
	}
	tld_used[slot / TLD_LONG_BITS] |= 1ul << slot % TLD_LONG_BITS;
	*page = (struct tld_data_u *)tld_slot_page(slot);
	return 0;
}

/* @page's offset in the store's file, or -1 if it is not the store's. */
long long tld__store_off(const void *page)
{
	const char *p = page;
	int i;

	for (i = 0; i < tld_nchunks; i++)
		if (p >= tld_chunks[i] && p < tld_chunks[i] + TLD_CHUNK_BYTES)
			return i * TLD_CHUNK_BYTES + (p - tld_chunks[i]);
	return -1;
}

int tld__store_fd(void)
{
	return tld_store_fd;
}

/* Zero @page and let the file drop its memory; its slot stays taken. */
void tld__store_page_empty(void *page)
{
	madvise(page, TLD_PAGE_SIZE, MADV_REMOVE);
}

/* Give back @page, whose entry is gone. Lock held. */
void tld__store_page_put(struct tld_data_u *page)
{
	long long slot = tld__store_off(page) / TLD_PAGE_SIZE;

	if (slot <= 0)
		return;
	tld__store_page_empty(page);
	tld_used[slot / TLD_LONG_BITS] &= ~(1ul << slot % TLD_LONG_BITS);
}

static struct tld_data_u tld_fork_copy;
static long long tld_fork_off;

/*
 * Before fork: copy the forking thread's page (@keep, or NULL), as it is
 * now. The parent goes on writing the shared file while the child starts,
 * so the child cannot copy it later. Lock held.
 */
void tld__store_fork_prepare(const struct tld_data_u *keep)
{
	tld_fork_off = keep ? tld__store_off(keep) : -1;
	if (tld_fork_off > 0)
		tld_fork_copy = *keep;
}

/*
 * Put the child's own @fd where the shared chunks were; if it has none
 * (-1), anonymous memory, so that the child's pointers still work but no
 * longer touch the parent's pages. False if any chunk failed.
 */
static bool tld_fork_remap(int fd)
{
	bool ok = true;
	int i;

	for (i = 0; i < tld_nchunks; i++) {
		if (fd >= 0 && tld_chunk_map(fd, i, tld_chunks[i]))
			continue;
		ok = false;
		mmap(tld_chunks[i], TLD_CHUNK_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	}
	return ok;
}

static int tld_fork_file(void)
{
	int fd = tld_memfd();

	if (fd >= 0 && (ftruncate(fd, tld_nchunks * TLD_CHUNK_BYTES) ||
			(tld_fork_off > 0 && pwrite(fd, &tld_fork_copy, TLD_PAGE_SIZE,
						    tld_fork_off) != TLD_PAGE_SIZE))) {
		tld_sys_close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The fork child shares the parent's file: give it a file of its own,
 * mapped where the shared one was, so that no pointer moves. It holds an
 * empty meta page, for the child's own keys (the parent may have added
 * some since), and the copy of the forking thread's page. Async-signal-
 * safe. On failure the child's pages are anonymous memory (the forking
 * thread's holding its copy), and no broker can pin them.
 */
void tld__store_fork_child(void)
{
	long long off = tld_fork_off;
	int fd, w;

	if (__atomic_load_n(&tld_store_state, __ATOMIC_ACQUIRE) != TLD_STORE_READY)
		return;
	fd = tld_fork_file();
	tld_sys_close(tld_store_fd);
	tld_store_fd = fd;
	for (w = 0; w < (int)(sizeof(tld_used) / sizeof(tld_used[0])); w++)
		tld_used[w] = 0;
	tld_used[0] = 1;
	if (!tld_fork_remap(fd)) {
		if (off > 0)
			memcpy(tld_chunks[off / TLD_CHUNK_BYTES] + off % TLD_CHUNK_BYTES,
			       &tld_fork_copy, TLD_PAGE_SIZE);
		if (fd >= 0)
			tld_sys_close(fd);
		tld_store_fd = -1;
		tld_nchunks = 0;
		tld_store_state = TLD_STORE_NONE;
		return;
	}
	((struct tld_meta_u *)tld_chunks[0])->size = TLD_DATA_MAX;
	if (off > 0)
		tld_used[off / TLD_PAGE_SIZE / TLD_LONG_BITS] |= 1ul << off / TLD_PAGE_SIZE % TLD_LONG_BITS;
}
