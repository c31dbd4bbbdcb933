// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent store's keeper: it makes a record when a task or a cgroup
 * appears, frees it when the object goes, and, when maintenance runs,
 * gives records to objects that have none, fetches pages from the kernel
 * and gives back those no record uses. tldtool agent create loads it and
 * pins its links.
 *
 * Allocation is in two levels, because on 6.18 the kernel gives arena
 * pages only to sleepable programs, and the task and cgroup hooks are not
 * sleepable: the hooks take slots from pages already there, under the
 * store's spin lock (it disables interrupts, so a hook interrupted by
 * another on its CPU cannot deadlock); maintenance, a sleepable task
 * iterator, fetches and frees whole pages outside the lock. A hook that
 * finds no free slot counts it in waited, and the next maintenance pass
 * makes the record.
 *
 * Everything read from the arena may have been written by the agent, so
 * every offset is checked before it is used, and every loop is bounded.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/agent.bpf.h>

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
				    int node_id, __u64 flags) __ksym __weak;
void bpf_arena_free_pages(void *map, void __arena *ptr, __u32 page_cnt) __ksym __weak;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_from_id(u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

#define NUMA_NO_NODE	(-1)
#define PF_EXITING	0x00000004
#define REFILL_MAX	256	/* pages one maintenance pass may fetch, per kind */

struct lock {
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lock);
} tld_agent_lock SEC(".maps");

static struct bpf_spin_lock *store_lock(void)
{
	__u32 zero = 0;
	struct lock *l = bpf_map_lookup_elem(&tld_agent_lock, &zero);

	return l ? &l->lock : NULL;
}

/*
 * The store's shape as tld_agent_init laid it out, and the end of its
 * pages: the keeper's own copy, which the agent cannot write. The header
 * publishes the same values to readers, but every bound the keeper checks
 * or loops by comes from here, so that garbage in the header cannot send
 * it through a million pages (test/agent_garbage did, before).
 */
static struct {
	__u32 data;
	__u32 top;
	__u32 max_records;
	__u32 reserve;
	struct {
		__u32 stride;
		__u32 buckets;
		__u32 index;
	} kind[TLD_AGENT_KINDS];
} geom;

static __always_inline __u32 stride_of(__u32 kind)
{
	return geom.kind[kind & 1].stride;
}

static __always_inline struct tld_agent_kind_hdr __arena *kind_hdr(__u32 kind)
{
	return &tld_agent_hdr()->kind[kind & 1];
}

/* Whether @off is a page this store gave to records. */
static __always_inline bool page_ok(__u32 off)
{
	return off && !(off & (TLD_AGENT_PAGE - 1)) && off >= geom.data && off < geom.top;
}

/* Whether @slot is where a @kind record can start, in a record page. */
static __always_inline bool slot_ok(__u32 kind, __u32 slot)
{
	__u32 in = slot & (TLD_AGENT_PAGE - 1), stride = stride_of(kind);

	return page_ok(slot & ~(TLD_AGENT_PAGE - 1)) && in >= TLD_AGENT_PAGE_HDR &&
	       stride && (in - TLD_AGENT_PAGE_HDR) % stride == 0 &&
	       in + stride <= TLD_AGENT_PAGE;
}

/* Lock held, as for everything that changes pages' lists. */
static __always_inline void list_del(struct tld_agent_kind_hdr __arena *k,
				     struct tld_agent_page __arena *pg, __u32 off)
{
	if (pg->list == TLD_AGENT_LIST_NONE)
		return;
	if (pg->prev && page_ok(pg->prev))
		((struct tld_agent_page __arena *)tld_agent_at(pg->prev))->next = pg->next;
	else if (pg->list == TLD_AGENT_LIST_EMPTY)
		k->empty = pg->next;
	else
		k->partial = pg->next;
	if (pg->next && page_ok(pg->next))
		((struct tld_agent_page __arena *)tld_agent_at(pg->next))->prev = pg->prev;
	if (pg->list == TLD_AGENT_LIST_EMPTY)
		k->nempty--;
	pg->list = TLD_AGENT_LIST_NONE;
	pg->next = pg->prev = 0;
	(void)off;
}

static __always_inline void list_add(struct tld_agent_kind_hdr __arena *k,
				     struct tld_agent_page __arena *pg, __u32 off, __u32 list)
{
	__u32 first = list == TLD_AGENT_LIST_EMPTY ? k->empty : k->partial;

	pg->prev = 0;
	pg->next = first;
	if (first && page_ok(first))
		((struct tld_agent_page __arena *)tld_agent_at(first))->prev = off;
	if (list == TLD_AGENT_LIST_EMPTY) {
		k->empty = off;
		k->nempty++;
	} else {
		k->partial = off;
	}
	pg->list = list;
}

/* Take a free slot, partial pages first. Lock held. */
static __always_inline __u32 slot_take(__u32 kind)
{
	struct tld_agent_kind_hdr __arena *k = kind_hdr(kind);
	__u32 off = k->partial ? k->partial : k->empty, slot;
	struct tld_agent_page __arena *pg;

	if (!page_ok(off))
		return 0;
	pg = tld_agent_at(off);
	slot = pg->free;
	if (!slot_ok(kind, slot) || (slot & ~(TLD_AGENT_PAGE - 1)) != off || !pg->nfree)
		return 0;
	pg->free = ((struct tld_agent_rec __arena *)tld_agent_at(slot))->next;
	pg->nfree--;
	k->free_slots--;
	if (pg->list == TLD_AGENT_LIST_EMPTY || !pg->nfree) {
		list_del(k, pg, off);
		if (pg->nfree)
			list_add(k, pg, off, TLD_AGENT_LIST_PARTIAL);
	}
	return slot;
}

/* Give @slot back to its page. Lock held. */
static __always_inline void slot_give(struct tld_agent_kind_hdr __arena *k, __u32 slot)
{
	__u32 off = slot & ~(TLD_AGENT_PAGE - 1);
	struct tld_agent_page __arena *pg = tld_agent_at(off);

	((struct tld_agent_rec __arena *)tld_agent_at(slot))->next = pg->free;
	pg->free = slot;
	pg->nfree++;
	k->free_slots++;
	if (pg->nfree >= pg->nslots) {
		list_del(k, pg, off);
		list_add(k, pg, off, TLD_AGENT_LIST_EMPTY);
	} else if (pg->list == TLD_AGENT_LIST_NONE) {
		list_add(k, pg, off, TLD_AGENT_LIST_PARTIAL);
	}
}

/* The @i-th bucket from @id's first in @kind's index. */
static __always_inline __u32 __arena *bucket_at(__u32 kind, __u64 id, __u32 i)
{
	__u32 n = geom.kind[kind & 1].buckets;

	return tld_agent_at(geom.kind[kind & 1].index +
			    ((tld_agent_bucket(id, n) + i) & (n - 1)) * sizeof(__u32));
}

/*
 * Point @id's bucket at @slot: the bucket that holds @id already (a reused
 * tid whose old task is not freed yet), else the first free one. Lock held.
 */
static __always_inline int index_put(__u32 kind, __u64 id, __u32 slot)
{
	__u32 v, spot = 0, i;
	bool have = false;

	for (i = 0; i < TLD_AGENT_MAX_PROBE; i++) {
		__u32 __arena *e = bucket_at(kind, id, i);

		v = *e;
		if (v == TLD_AGENT_EMPTY || v == TLD_AGENT_TOMB) {
			if (!have) {
				spot = i;
				have = true;
			}
			if (v == TLD_AGENT_EMPTY)
				break;
			continue;
		}
		if (((struct tld_agent_rec __arena *)tld_agent_at(v))->id == id) {
			*e = slot;
			return 0;
		}
	}
	if (!have)
		return -1;
	*bucket_at(kind, id, spot) = slot;
	return 0;
}

/* Empty the bucket that holds @slot, if one does. Lock held. */
static __always_inline void index_drop(__u32 kind, __u64 id, __u32 slot)
{
	__u32 i;

	for (i = 0; i < TLD_AGENT_MAX_PROBE; i++) {
		__u32 __arena *e = bucket_at(kind, id, i);

		if (*e == TLD_AGENT_EMPTY)
			return;
		if (*e == slot) {
			*e = TLD_AGENT_TOMB;
			return;
		}
	}
}

static __always_inline __u64 slot_word(__u32 slot, __u32 gen)
{
	return (__u64)gen << 32 | slot;
}

/* Whether the storage word @word names a live record. */
static __always_inline bool word_live(__u32 kind, __u64 word)
{
	__u32 slot = (__u32)word;

	return slot && slot_ok(kind, slot) &&
	       ((struct tld_agent_rec __arena *)tld_agent_at(slot))->gen == (__u32)(word >> 32);
}

/* Give back a slot whose record never became the object's. */
static __always_inline void rec_undo(struct tld_agent_kind_hdr __arena *k,
				     struct bpf_spin_lock *lock, __u32 slot, __u32 gen)
{
	((struct tld_agent_rec __arena *)tld_agent_at(slot))->gen = gen + 1;
	bpf_spin_lock(lock);
	slot_give(k, slot);
	bpf_spin_unlock(lock);
}

/*
 * Make a record for the object whose storage value is @s: @id, @birth.
 * 0, or -1 if it has one, -2 if the store is full (counted), -3 if no slot
 * is free (counted; maintenance makes it). A storage word that names a
 * record no longer live is taken for none.
 */
static int rec_make(__u32 kind, struct tld_agent_slot *s, __u64 id, __u64 birth)
{
	struct tld_agent_kind_hdr __arena *k = kind_hdr(kind);
	struct bpf_spin_lock *lock = store_lock();
	__u64 old = *(__u64 *)s, word;
	struct tld_agent_rec __arena *r;
	__u32 slot, gen, i;
	__u64 __arena *w;
	int err;

	if (!lock || word_live(kind, old))
		return -1;
	if (k->live >= geom.max_records) {
		__sync_fetch_and_add(&k->full, 1);
		return -2;
	}
	bpf_spin_lock(lock);
	slot = slot_take(kind);
	bpf_spin_unlock(lock);
	if (!slot) {
		__sync_fetch_and_add(&k->waited, 1);
		return -3;
	}
	r = tld_agent_at(slot);
	w = (__u64 __arena *)r->payload;
	bpf_for(i, 0, (stride_of(kind) - TLD_AGENT_REC_HDR) / 8)
		w[i] = 0;
	r->id = id;
	r->birth = birth;
	r->kind = kind;
	r->epoch = tld_agent_hdr()->epoch;
	gen = (r->gen | 1) + ((r->gen & 1) ? 2 : 0);
	/*
	 * The record is whole before its generation says it is live: x86-64
	 * keeps stores in order, so the compiler is all there is to stop.
	 */
	barrier();
	r->gen = gen;
	word = slot_word(slot, gen);
	if (__sync_val_compare_and_swap((__u64 *)s, old, word) != old) {
		/* Maintenance and a hook raced to make it: the other won. */
		rec_undo(k, lock, slot, gen);
		return -1;
	}
	bpf_spin_lock(lock);
	err = index_put(kind, id, slot);
	bpf_spin_unlock(lock);
	if (err) {
		/* No bucket within reach: a record the agent cannot find is none. */
		__sync_val_compare_and_swap((__u64 *)s, word, 0);
		rec_undo(k, lock, slot, gen);
		__sync_fetch_and_add(&k->full, 1);
		return -2;
	}
	__sync_fetch_and_add(&k->live, 1);
	__sync_fetch_and_add(&k->made, 1);
	return 0;
}

/* Free the record @s names, if it still does: 0, or -1 if it did not. */
static int rec_free(__u32 kind, struct tld_agent_slot *s)
{
	struct tld_agent_kind_hdr __arena *k = kind_hdr(kind);
	struct bpf_spin_lock *lock = store_lock();
	struct tld_agent_rec __arena *r;
	__u64 word = *(__u64 *)s;
	__u32 slot = (__u32)word, gen = word >> 32;
	bool freed = false;

	if (!lock || !slot || __sync_val_compare_and_swap((__u64 *)s, word, 0) != word)
		return -1;
	if (!slot_ok(kind, slot))
		return -1;
	r = tld_agent_at(slot);
	/* Under the lock: the hook and a sweep may free the same record. */
	bpf_spin_lock(lock);
	if (r->gen == gen) {
		index_drop(kind, r->id, slot);
		r->gen = gen + 1;
		slot_give(k, slot);
		freed = true;
	}
	bpf_spin_unlock(lock);
	if (!freed)
		return -1;
	__sync_fetch_and_sub(&k->live, 1);
	__sync_fetch_and_add(&k->freed, 1);
	return 0;
}

static __always_inline struct tld_agent_slot *task_slot(struct task_struct *p)
{
	return bpf_task_storage_get(&tld_agent_tasks, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline struct tld_agent_slot *cgroup_slot(struct cgroup *cgrp)
{
	return bpf_cgrp_storage_get(&tld_agent_cgroups, cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
}

static __always_inline int task_make(struct task_struct *p)
{
	struct tld_agent_slot *s = task_slot(p);

	return s ? rec_make(TLD_AGENT_TASK, s, p->pid, p->start_time) : -1;
}

/* cgroup v2 only: the hooks fire for v1 hierarchies too. */
static __always_inline bool cgroup_v2(struct cgroup *cgrp)
{
	return cgrp->root->hierarchy_id == 0;
}

static __always_inline int cgroup_make(struct cgroup *cgrp)
{
	struct tld_agent_slot *s;

	if (!cgroup_v2(cgrp))
		return -1;
	s = cgroup_slot(cgrp);

	return s ? rec_make(TLD_AGENT_CGROUP, s, cgrp->kn->id, 0) : -1;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(tld_agent_task_new, struct task_struct *p, u64 clone_flags)
{
	task_make(p);
	return 0;
}

SEC("tp_btf/sched_process_free")
int BPF_PROG(tld_agent_task_free, struct task_struct *p)
{
	struct tld_agent_slot *s = bpf_task_storage_get(&tld_agent_tasks, p, 0, 0);

	if (s)
		rec_free(TLD_AGENT_TASK, s);
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(tld_agent_cgroup_new, struct cgroup *cgrp, const char *path)
{
	cgroup_make(cgrp);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(tld_agent_cgroup_free, struct cgroup *cgrp, const char *path)
{
	struct tld_agent_slot *s = bpf_cgrp_storage_get(&tld_agent_cgroups, cgrp, 0, 0);

	if (s)
		rec_free(TLD_AGENT_CGROUP, s);
	return 0;
}

/* ---- maintenance: sleepable, outside the hooks ------------------------ */

/* Fetch one page for @kind's records and put it on the empty list. */
static int page_add(__u32 kind)
{
	struct tld_agent_kind_hdr __arena *k = kind_hdr(kind);
	struct bpf_spin_lock *lock = store_lock();
	struct tld_agent_page __arena *pg;
	__u32 stride = stride_of(kind), off, n, i, slot;

	if (!lock || !stride)
		return -1;
	pg = bpf_arena_alloc_pages(&tld_agent_arena, NULL, 1, NUMA_NO_NODE, 0);
	if (!pg)
		return -1;
	off = (__u32)(__u64)pg;
	n = (TLD_AGENT_PAGE - TLD_AGENT_PAGE_HDR) / stride;
	pg->nslots = n;
	pg->nfree = n;
	pg->kind = kind;
	pg->free = 0;
	for (i = n; i > 0 && i <= 64; i--) {
		slot = off + TLD_AGENT_PAGE_HDR + (i - 1) * stride;
		((struct tld_agent_rec __arena *)tld_agent_at(slot))->next = pg->free;
		pg->free = slot;
	}
	bpf_spin_lock(lock);
	if (geom.top < off + TLD_AGENT_PAGE)
		geom.top = off + TLD_AGENT_PAGE;
	tld_agent_hdr()->top = geom.top;
	list_add(k, pg, off, TLD_AGENT_LIST_EMPTY);
	k->free_slots += n;
	k->npages++;
	bpf_spin_unlock(lock);
	__sync_fetch_and_add(&tld_agent_hdr()->pages_used, 1);
	return 0;
}

/* Give the kernel back one page nobody uses. */
static int page_drop(__u32 kind)
{
	struct tld_agent_kind_hdr __arena *k = kind_hdr(kind);
	struct bpf_spin_lock *lock = store_lock();
	struct tld_agent_page __arena *pg = NULL;
	__u32 off;

	if (!lock)
		return -1;
	bpf_spin_lock(lock);
	off = k->empty;
	if (page_ok(off)) {
		pg = tld_agent_at(off);
		list_del(k, pg, off);
		k->free_slots -= pg->nfree;
		k->npages--;
	}
	bpf_spin_unlock(lock);
	if (!pg)
		return -1;
	bpf_arena_free_pages(&tld_agent_arena, pg, 1);
	__sync_fetch_and_sub(&tld_agent_hdr()->pages_used, 1);
	return 0;
}

/*
 * Keep a reserve of free slots for the hooks: the store's reserve plus an
 * eighth of the live records; beyond twice that and a page, whole free
 * pages go back.
 */
static void pages_balance(__u32 kind)
{
	struct tld_agent_kind_hdr __arena *k = kind_hdr(kind);
	__u32 stride = stride_of(kind);
	__u64 per_page, want;
	int i;

	if (!stride)
		return;
	per_page = (TLD_AGENT_PAGE - TLD_AGENT_PAGE_HDR) / stride;
	want = geom.reserve + k->live / 8;
	bpf_for(i, 0, REFILL_MAX) {
		if (k->free_slots >= want || page_add(kind))
			break;
	}
	bpf_for(i, 0, REFILL_MAX) {
		if (k->free_slots < 2 * want + per_page || page_drop(kind))
			break;
	}
}

/* Whether @r's task lives and still names @r: then maintenance saw it. */
static bool task_holds(struct tld_agent_rec __arena *r, __u32 slot)
{
	struct task_struct *p = bpf_task_from_pid(r->id);
	struct tld_agent_slot *s;
	bool holds = false;

	if (!p)
		return false;
	s = bpf_task_storage_get(&tld_agent_tasks, p, 0, 0);
	holds = s && s->slot == slot;
	bpf_task_release(p);
	return holds;
}

/* Whether @r's cgroup exists and still names @r. */
static bool cgroup_holds(struct tld_agent_rec __arena *r, __u32 slot)
{
	struct cgroup *cgrp = bpf_cgroup_from_id(r->id);
	struct tld_agent_slot *s;
	bool holds;

	if (!cgrp)
		return false;
	s = bpf_cgrp_storage_get(&tld_agent_cgroups, cgrp, 0, 0);
	holds = s && s->slot == slot;
	bpf_cgroup_release(cgrp);
	return holds;
}

/*
 * Free the live records of one page that two passes in a row did not see:
 * their object's hook was skipped (the kernel skips a tp_btf program
 * entered on a CPU where another task is preempted inside it), or a reused
 * tid's new record took their place in the index.
 */
static void sweep_page(__u32 kind, __u32 off, __u32 epoch)
{
	struct tld_agent_page __arena *pg = tld_agent_at(off);
	struct tld_agent_rec __arena *r;
	__u32 n = pg->nslots, slot;
	int i;

	if (pg->kind != kind || n > 64)
		return;
	bpf_for(i, 0, n) {
		slot = off + TLD_AGENT_PAGE_HDR + i * stride_of(kind);
		if (!slot_ok(kind, slot))
			break;
		r = tld_agent_at(slot);
		if (!(r->gen & 1) || (int)(epoch - r->epoch) < 2)
			continue;
		if (kind == TLD_AGENT_TASK ? task_holds(r, slot) : cgroup_holds(r, slot)) {
			r->epoch = epoch;
			continue;
		}
		{
			struct tld_agent_slot gone = { .slot = slot, .gen = r->gen };

			if (!rec_free(kind, &gone))
				__sync_fetch_and_add(&kind_hdr(kind)->swept, 1);
		}
	}
}

static void sweep(__u32 kind)
{
	__u32 epoch = tld_agent_hdr()->epoch;
	int pg;

	bpf_for(pg, geom.data / TLD_AGENT_PAGE, geom.top / TLD_AGENT_PAGE)
		sweep_page(kind, pg * TLD_AGENT_PAGE, epoch);
}

/*
 * A read of an iterator that wrote nothing for a million objects fails
 * with EAGAIN: write a byte every so often.
 */
static __always_inline void keep_going(struct bpf_iter_meta *meta)
{
	char c = '.';

	if (!(meta->seq_num & 4095))
		bpf_seq_write(meta->seq, &c, 1);
}

SEC("iter.s/task")
int tld_agent_tasks_keep(struct bpf_iter__task *ctx)
{
	struct task_struct *p = ctx->task;
	struct tld_agent_slot *s;
	struct tld_agent_rec __arena *r;

	if (tld_agent_hdr()->magic != TLD_AGENT_MAGIC)
		return 0;
	if (ctx->meta->seq_num == 0) {
		__sync_fetch_and_add(&tld_agent_hdr()->epoch, 1);
		pages_balance(TLD_AGENT_TASK);
	}
	if (!p) {
		sweep(TLD_AGENT_TASK);
		pages_balance(TLD_AGENT_TASK);
		return 0;
	}
	/*
	 * An exiting task may be past its free hook (the iterator holds a
	 * reference): a record made now would have no hook left to free it.
	 */
	if (p->flags & PF_EXITING)
		return 0;
	keep_going(ctx->meta);
	s = task_slot(p);
	if (!s)
		return 0;
	/* page_add() may sleep: the task may have exited meanwhile. */
	if (task_make(p) == -3 && !page_add(TLD_AGENT_TASK) && !(p->flags & PF_EXITING))
		task_make(p);
	r = tld_agent_rec_of(s);
	if (r)
		r->epoch = tld_agent_hdr()->epoch;
	return 0;
}

SEC("iter.s/cgroup")
int tld_agent_cgroups_keep(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct tld_agent_rec __arena *r;

	if (tld_agent_hdr()->magic != TLD_AGENT_MAGIC)
		return 0;
	if (ctx->meta->seq_num == 0)
		pages_balance(TLD_AGENT_CGROUP);
	if (!cgrp) {
		sweep(TLD_AGENT_CGROUP);
		pages_balance(TLD_AGENT_CGROUP);
		return 0;
	}
	keep_going(ctx->meta);
	if (cgroup_make(cgrp) == -3 && !page_add(TLD_AGENT_CGROUP))
		cgroup_make(cgrp);
	r = tld_agent_rec_of(bpf_cgrp_storage_get(&tld_agent_cgroups, cgrp, 0, 0));
	if (r)
		r->epoch = tld_agent_hdr()->epoch;
	return 0;
}

/* ---- creation ----------------------------------------------------------- */

static __u32 roundup_pow2(__u32 n)
{
	__u32 p = 1;
	int i;

	for (i = 0; i < 31 && p < n; i++)
		p <<= 1;
	return p;
}

/* Lay out the header and the indexes, and fetch their pages. */
SEC("syscall")
int tld_agent_init(struct tld_agent_init_args *a)
{
	struct tld_agent_hdr __arena *h;
	__u32 off = TLD_AGENT_PAGE, kind, n;
	void __arena *p;

	a->err = -22;
	if (!a->max_records || a->max_records > (1u << 22) || a->pages > TLD_AGENT_PAGES_MAX)
		return 0;
	p = bpf_arena_alloc_pages(&tld_agent_arena, tld_agent_at(0), 1, NUMA_NO_NODE, 0);
	if (!p) {
		a->err = -12;
		return 0;
	}
	h = tld_agent_hdr();
	h->pages = a->pages;
	h->max_records = geom.max_records = a->max_records;
	h->reserve = geom.reserve = a->reserve;
	h->pages_used = 1;
	for (kind = 0; kind < TLD_AGENT_KINDS; kind++) {
		struct tld_agent_kind_hdr __arena *k = &h->kind[kind];

		if (a->rec_size[kind] > TLD_AGENT_PAGE - TLD_AGENT_PAGE_HDR - TLD_AGENT_REC_HDR)
			return 0;
		k->rec_size = a->rec_size[kind];
		k->stride = geom.kind[kind].stride = TLD_AGENT_STRIDE(a->rec_size[kind]);
		k->buckets = geom.kind[kind].buckets = roundup_pow2(2 * a->max_records);
		k->index = geom.kind[kind].index = off;
		n = (geom.kind[kind].buckets * sizeof(__u32) + TLD_AGENT_PAGE - 1) / TLD_AGENT_PAGE;
		if (off / TLD_AGENT_PAGE + n >= a->pages)
			return 0;
		p = bpf_arena_alloc_pages(&tld_agent_arena, tld_agent_at(off), n, NUMA_NO_NODE, 0);
		if (!p) {
			a->err = -12;
			return 0;
		}
		h->pages_used += n;
		off += n * TLD_AGENT_PAGE;
	}
	h->data = h->top = geom.data = geom.top = off;
	h->version = TLD_AGENT_VERSION;
	barrier();
	h->magic = TLD_AGENT_MAGIC;
	a->err = 0;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
