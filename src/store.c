// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The process's pages: the meta page and every thread's data page, all in
 * one memfd. A memfd and not anonymous memory, so that a broker (tldd) can
 * map the very pages this process writes and have the kernel pin them from
 * its own address space; a direct registration pins them from ours.
 *
 * The file grows in chunks of TLD_CHUNK_PAGES, each mapped once, so that
 * neither this process nor tldd needs a mapping per thread. Page 0 is the
 * meta page; the others hold threads' data areas, handed out and given
 * back when threads exit. By default an area is a whole page: a page given
 * back is punched out of the file, so a BPF store that lands after its
 * entry is gone hits the old page, which the kernel still pins, never the
 * zeroed page the slot's next thread gets. The compact layout ($TLD_COMPACT,
 * struct tld_opts) puts several areas of a fixed size in a page, after the
 * page's shared header (the cookie), and trades that away for memory: a
 * page is punched only once none of its areas is taken.
 *
 * Pages are punched with fallocate(), which a locked mapping (mlockall())
 * does not refuse, as madvise(MADV_REMOVE) does; and never in a huge page,
 * which a punch could only zero in place, pinned: the chunks are mapped
 * MADV_NOHUGEPAGE, and every page is first touched through them.
 *
 * A page's first touch is a page fault, which on a VM costs as much as a
 * dozen system calls; so in the default layout, once a thread holds an
 * area, pages are populated ahead, TLD_WARM_PAGES with one
 * madvise(MADV_POPULATE_WRITE), and a thread takes a populated page first.
 * On a VM whose hypervisor maps guest pages lazily, the first access to a
 * page after it is populated still traps to the hypervisor, as long again;
 * a thread that gave its page back at exit therefore populates and touches
 * the next TLD_WARM_PAGES free pages when none is populated, for the
 * threads that come after it, without the lock held. At most
 * TLD_WARM_PAGES of them wait unused, and tld_fini() lets them go.
 *
 * The store is made once, by the first caller, which may be a lock-free
 * key creator; the others wait for it (state). Slots, chunks and the fork
 * child's copy are changed with the process lock held.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "broker.h"
#include "internal.h"
#include "syscall.h"

#define TLD_CHUNK_BYTES	((off_t)TLD_CHUNK_PAGES * TLD_PAGE_SIZE)
#define TLD_LONG_BITS	(8 * (int)sizeof(unsigned long))
#define TLD_MAX_SLOTS	(TLD_MAX_CHUNKS * TLD_CHUNK_PAGES)
#define TLD_WARM_PAGES	16
/* At least two areas a page, in multiples of 8 bytes. */
#define TLD_COMPACT_MAX	(TLD_DATA_MAX / 2 / TLD_KEY_ALIGN * TLD_KEY_ALIGN)

TLD_STATIC_ASSERT(TLD_BROKER_STORE_MAX == (__u64)TLD_MAX_CHUNKS * TLD_CHUNK_BYTES,
		  "tldd maps exactly the most a store grows to");

enum { TLD_STORE_NONE, TLD_STORE_MAKING, TLD_STORE_READY };

static int tld_store_state;
static int tld_store_fd = -1;
static char *tld_chunks[TLD_MAX_CHUNKS];
static int tld_nchunks;
/* Slot s is area s % tld_per_page of page 1 + s / tld_per_page. */
static unsigned long tld_used[TLD_MAX_SLOTS / TLD_LONG_BITS];
static int tld_nused;
/* Free slots whose page was populated since it was last punched (default layout). */
static unsigned long tld_warm[TLD_MAX_SLOTS / TLD_LONG_BITS];
static int tld_nwarm;			/* ... how many */
static int tld_nfilling;		/* slots an exiting thread is populating */
static bool tld_warm_failed;		/* MADV_POPULATE_WRITE, before Linux 5.14 */
/* The layout, fixed when the store is made. */
static int tld_area = TLD_DATA_MAX;	/* data bytes per thread */
static int tld_per_page = 1;
static size_t tld_area_wanted;		/* tld_init()'s, before the store exists */

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

/*
 * Map chunk @i of @fd at @at (MAP_FIXED) or anywhere (NULL). Inaccessible
 * until it refuses huge pages: under mlockall(MCL_FUTURE) an accessible
 * mapping is filled as it is made, and a shared one is not when made
 * writable later.
 */
static char *tld_chunk_map(int fd, int i, void *at)
{
	void *p = mmap(at, TLD_CHUNK_BYTES, PROT_NONE, MAP_SHARED | (at ? MAP_FIXED : 0), fd,
		       i * TLD_CHUNK_BYTES);

	if (p == MAP_FAILED)
		return NULL;
	/* Fails only where there are no huge pages to refuse. */
	madvise(p, TLD_CHUNK_BYTES, MADV_NOHUGEPAGE);
	if (mprotect(p, TLD_CHUNK_BYTES, PROT_READ | PROT_WRITE)) {
		munmap(p, TLD_CHUNK_BYTES);
		return NULL;
	}
	return p;
}

/* How many slots the mapped chunks hold. */
static int tld_slots_mapped(void)
{
	int n = (tld_nchunks * TLD_CHUNK_PAGES - 1) * tld_per_page;

	return n < TLD_MAX_SLOTS ? n : TLD_MAX_SLOTS;
}

static int tld_chunk_add(void)
{
	int i = tld_nchunks;
	char *p;

	if (i == TLD_MAX_CHUNKS || (i && tld_slots_mapped() == TLD_MAX_SLOTS))
		return tld__err(-ENOSPC, "all %d data areas of this process's store are taken: libtld registers at most that many threads per process",
				tld_slots_mapped());
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

/* The compact layout's data bytes per thread, from tld_init() or $TLD_COMPACT; 0: none. */
static int tld_layout_wanted(size_t *area)
{
	const char *env = secure_getenv("TLD_COMPACT");
	char *end;

	*area = __atomic_load_n(&tld_area_wanted, __ATOMIC_RELAXED);
	if (*area || !env || !*env)
		return 0;
	errno = 0;
	*area = strtoul(env, &end, 10);
	if (errno || *end || *env == '-')
		return tld__err(-EINVAL, "TLD_COMPACT=%s: not a number of bytes", env);
	return 0;
}

static int tld_layout_check(size_t area)
{
	if (area > TLD_COMPACT_MAX)
		return tld__err(-EINVAL, "a compact data area of %zu bytes: at most %d, for two threads a page",
				area, TLD_COMPACT_MAX);
	return 0;
}

/*
 * Decide the layout, once: a fork child whose store is made anew, with
 * the parent's keys, keeps it.
 */
static int tld_layout_set(void)
{
	static bool fixed;
	size_t area;
	int err;

	if (fixed)
		return 0;
	err = tld_layout_wanted(&area) ?: tld_layout_check(area);
	if (err)
		return err;
	if (area) {
		tld_area = TLD_ROUND_KEY(area);
		tld_per_page = TLD_DATA_MAX / tld_area;
	}
	fixed = true;
	return 0;
}

static int tld_store_make(void)
{
	int err = tld__fork_hooks_setup() ?: tld_layout_set(), fd;

	if (err)
		return err;
	fd = tld_memfd();
	if (fd < 0)
		return tld__err(fd, "cannot make the page store (memfd_create)");
	tld_store_fd = fd;
	err = tld_chunk_add();
	if (!err)
		((struct tld_meta_u *)tld_chunks[0])->size = tld_area;
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

/*
 * Choose the compact layout of @area data bytes per thread (0: a page per
 * thread), which only works before the store is made. Lock held.
 */
int tld__store_layout(size_t area)
{
	int err = tld_layout_check(area);

	if (err)
		return err;
	if (__atomic_load_n(&tld_store_state, __ATOMIC_ACQUIRE) == TLD_STORE_NONE)
		__atomic_store_n(&tld_area_wanted, area, __ATOMIC_RELAXED);
	err = tld_store_ready();
	if (err)
		return err;
	if (area ? tld_per_page > 1 && (size_t)tld_area == TLD_ROUND_KEY(area) : tld_per_page == 1)
		return 0;
	return tld__err(-EBUSY, "the store's layout (%d data bytes per thread) was fixed when it was made, by the first key or thread: choose it before (TLD_COMPACT, or tld_init() in a constructor of priority 100 or less)",
			tld_area);
}

/* Data bytes per thread: what keys may take. The store exists. */
int tld__store_area(void)
{
	return tld_area;
}

/* Whether a thread's area is a whole page (the default layout). The store exists. */
bool tld__store_area_is_page(void)
{
	return tld_per_page == 1;
}

static char *tld_page(long long pg)
{
	return tld_chunks[pg / TLD_CHUNK_PAGES] + (off_t)(pg % TLD_CHUNK_PAGES) * TLD_PAGE_SIZE;
}

static bool tld_bit(const unsigned long *map, int slot)
{
	return map[slot / TLD_LONG_BITS] & 1ul << slot % TLD_LONG_BITS;
}

static void tld_bit_set(unsigned long *map, int slot, bool on)
{
	if (on)
		map[slot / TLD_LONG_BITS] |= 1ul << slot % TLD_LONG_BITS;
	else
		map[slot / TLD_LONG_BITS] &= ~(1ul << slot % TLD_LONG_BITS);
}

/* The first free slot, among the populated ones if @warm; -1 if none. */
static int tld_slot_free(bool warm)
{
	int w, slot, n = tld_slots_mapped();
	unsigned long free;

	for (w = 0; w * TLD_LONG_BITS < n; w++) {
		free = warm ? tld_warm[w] : ~tld_used[w];
		if (!free)
			continue;
		slot = w * TLD_LONG_BITS + __builtin_ctzl(free);
		return slot < n ? slot : -1;
	}
	return -1;
}

static bool tld_slot_used(int slot)
{
	return tld_bit(tld_used, slot);
}

static void tld_slot_mark(int slot, bool used)
{
	tld_nused += used ? 1 : -1;
	tld_bit_set(tld_used, slot, used);
}

/* @slot is no longer a populated free one: taken, or its page let go. */
static void tld_warm_clear(int slot)
{
	if (!tld_bit(tld_warm, slot))
		return;
	tld_bit_set(tld_warm, slot, false);
	tld_nwarm--;
}

/* The slot of the area at @start in the page at file offset @off, or -1. */
static int tld_slot_of(long long off, int start)
{
	long long pg = off / TLD_PAGE_SIZE;

	if (off < 0 || pg < 1 || start < TLD_DATA_HDR)
		return -1;
	return (pg - 1) * tld_per_page + (start - TLD_DATA_HDR) / tld_area;
}

/*
 * How many slots from free slot @slot on are free and not populated, in
 * its chunk, TLD_WARM_PAGES at most (default layout).
 */
static int tld_warm_run(int slot)
{
	int n = 0, end = tld_slots_mapped();

	while (n < TLD_WARM_PAGES && slot + n < end && !tld_slot_used(slot + n) &&
	       !tld_bit(tld_warm, slot + n) && (n == 0 || (1 + slot + n) % TLD_CHUNK_PAGES))
		n++;
	return n;
}

/* Populate the pages of the @n slots from @slot on, and @touch them: 0 or -errno. */
static int tld_warm_populate(int slot, int n, bool touch)
{
	int i;

	if (madvise(tld_page(1 + slot), (size_t)n * TLD_PAGE_SIZE, MADV_POPULATE_WRITE))
		return -errno;
	for (i = 0; touch && i < n; i++)
		*(volatile __u64 *)tld_page(1 + slot + i) = 0;
	return 0;
}

/*
 * The @n free slots from @slot on were populated, unless @err: once that
 * fails for good (before Linux 5.14, or a seccomp filter), pages fault in
 * when first touched.
 */
static void tld_warm_mark(int slot, int n, int err)
{
	if (err) {
		tld_warm_failed = err == -EINVAL || err == -EPERM || err == -ENOSYS;
		return;
	}
	tld_nwarm += n;
	while (n--)
		tld_bit_set(tld_warm, slot + n, true);
}

/* Whether a process that just freed or took a slot should populate spares. */
static bool tld_warm_wanted(void)
{
	/* A process with one thread at a time registered keeps no spares. */
	return tld_per_page == 1 && tld_nused && !tld_warm_failed &&
	       !__atomic_load_n(&tld__proc.dead, __ATOMIC_RELAXED);
}

/* Populate the page of free slot @slot and of the free slots after it. */
static void tld_warm_ahead(int slot)
{
	int n = tld_warm_run(slot);

	tld_warm_mark(slot, n, tld_warm_populate(slot, n, false));
}

/* A free slot, a populated one if there is one; it may add a chunk. */
static int tld_slot_take(int *slot)
{
	int err;

	*slot = tld_nwarm ? tld_slot_free(true) : -1;
	if (*slot < 0)
		*slot = tld_slot_free(false);
	if (*slot < 0) {
		err = tld_chunk_add();
		if (err)
			return err;
		*slot = tld_slot_free(false);
	}
	if (tld_warm_wanted() && !tld_bit(tld_warm, *slot))
		tld_warm_ahead(*slot);
	tld_warm_clear(*slot);
	tld_slot_mark(*slot, true);
	return 0;
}

/* A zeroed data area of the store's, for a thread: its page and start. Lock held. */
int tld__store_area_get(struct tld_data_u **page, __u16 *start)
{
	int err = tld_store_ready(), slot;

	if (!err)
		err = tld_slot_take(&slot);
	if (err)
		return err;
	*page = (struct tld_data_u *)tld_page(1 + slot / tld_per_page);
	*start = TLD_DATA_HDR + slot % tld_per_page * tld_area;
	/* A whole page comes zeroed from the file; an area may hold a thread's before. */
	if (tld_per_page > 1)
		memset((char *)*page + *start, 0, tld_area);
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

/*
 * Punch @page out of the store: the file drops it, so the next touch finds
 * a new zeroed page, while a page the kernel pins stays the pinner's.
 * MADV_REMOVE does the same where fallocate() is refused (a seccomp
 * filter) but not in a locked mapping. -errno if neither can.
 */
static int tld_page_punch(void *page)
{
	long long off = tld__store_off(page);

	if (off < 0 || tld_store_fd < 0)
		return madvise(page, TLD_PAGE_SIZE, MADV_DONTNEED) ? -errno : 0;
	if (!fallocate(tld_store_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, TLD_PAGE_SIZE))
		return 0;
	return madvise(page, TLD_PAGE_SIZE, MADV_REMOVE) ? -errno : 0;
}

/* Zero @page and, if it can, let the file drop its memory; its slot stays taken. */
void tld__store_page_empty(void *page)
{
	if (tld_page_punch(page))
		memset(page, 0, TLD_PAGE_SIZE);
}

/* Give back the area at @start of @page, whose entry is gone. Lock held. */
void tld__store_area_put(struct tld_data_u *page, __u16 start)
{
	int slot = tld_slot_of(tld__store_off(page), start), first, i;

	if (slot < 0)
		return;
	tld_slot_mark(slot, false);
	first = slot - slot % tld_per_page;
	/* The last page may hold fewer slots than a page has areas. */
	for (i = first; i < first + tld_per_page && i < TLD_MAX_SLOTS; i++)
		if (tld_slot_used(i))
			return;
	tld__store_page_empty(page);
}

/*
 * Give back an exiting thread's page (default layout) while its entry
 * stays: only once it is punched, so that the entry pins the old page and
 * the slot's next thread gets a new one. -errno if it is not, and then the
 * page is still the thread's. Lock held.
 */
int tld__store_page_leave(struct tld_data_u *page)
{
	int slot = tld_slot_of(tld__store_off(page), TLD_DATA_HDR), err;

	if (slot < 0 || tld_per_page != 1)
		return -EINVAL;
	err = tld_page_punch(page);
	if (err)
		return err;
	tld_slot_mark(slot, false);
	return 0;
}

/*
 * After a thread gave its page back at exit, with no page populated:
 * populate and touch the next ones for later threads. The slots are taken
 * under the lock, filled without it, so that no other thread waits behind
 * the pages' first touches, and given back populated, or emptied if
 * tld_fini() came meanwhile; one thread fills at a time. They run from the
 * first free slot, where takes look first: from the exiting thread's, each
 * batch would start after the last one, up to the store's end.
 */
void tld__store_warm_refill(void)
{
	int slot = -1, n = 0, err, i;
	bool dead;

	tld__lock();
	if (!tld_nwarm && !tld_nfilling && tld_warm_wanted()) {
		slot = tld_slot_free(false);
		n = slot < 0 ? 0 : tld_warm_run(slot);
		for (i = 0; i < n; i++)
			tld_slot_mark(slot + i, true);
		tld_nfilling = n;
	}
	tld__unlock();
	if (!n)
		return;
	err = tld_warm_populate(slot, n, true);
	tld__lock();
	tld_nfilling = 0;
	dead = __atomic_load_n(&tld__proc.dead, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		tld_slot_mark(slot + i, false);
		if (dead)
			tld__store_page_empty(tld_page(1 + slot + i));
	}
	if (!dead)
		tld_warm_mark(slot, n, err);
	tld__unlock();
}

/* tld_fini(): let go of the pages populated ahead and never taken. Lock held. */
void tld__store_spares_release(void)
{
	int slot;

	while ((slot = tld_slot_free(true)) >= 0) {
		tld__store_page_empty(tld_page(1 + slot));
		tld_warm_clear(slot);
	}
}

static struct tld_data_u tld_fork_copy;
static long long tld_fork_off;
static int tld_fork_slot;

/*
 * Before fork: copy the page of the forking thread's area (@keep at
 * @start, or NULL), as it is now. The parent goes on writing the shared
 * file while the child starts, so the child cannot copy it later. Lock
 * held.
 */
void tld__store_fork_prepare(const struct tld_data_u *keep, __u16 start)
{
	tld_fork_off = keep ? tld__store_off(keep) : -1;
	tld_fork_slot = tld_slot_of(tld_fork_off, start);
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

	if (fd >= 0 && ftruncate(fd, tld_nchunks * TLD_CHUNK_BYTES)) {
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
	bool mapped;
	int fd;

	if (__atomic_load_n(&tld_store_state, __ATOMIC_ACQUIRE) != TLD_STORE_READY)
		return;
	fd = tld_fork_file();
	tld_sys_close(tld_store_fd);
	tld_store_fd = fd;
	memset(tld_used, 0, sizeof(tld_used));
	memset(tld_warm, 0, sizeof(tld_warm));
	/* A fill of the parent's has no thread here to finish it. */
	tld_nused = tld_nwarm = tld_nfilling = 0;
	mapped = tld_fork_remap(fd);
	/* Through the mapping, which refuses huge pages; a write() would not. */
	if (off > 0)
		memcpy(tld_chunks[off / TLD_CHUNK_BYTES] + off % TLD_CHUNK_BYTES,
		       &tld_fork_copy, TLD_PAGE_SIZE);
	if (!mapped) {
		if (fd >= 0)
			tld_sys_close(fd);
		tld_store_fd = -1;
		tld_nchunks = 0;
		tld_store_state = TLD_STORE_NONE;
		return;
	}
	((struct tld_meta_u *)tld_chunks[0])->size = tld_area;
	if (tld_fork_slot >= 0)
		tld_slot_mark(tld_fork_slot, true);
}
