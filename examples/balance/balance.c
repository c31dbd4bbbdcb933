// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The balancer's agent half (balance.h): scan every task record, turn
 * runnable time into load, plan the moves, write the placements. No
 * system call per task: the records are read and written in the mapped
 * arena.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balance.h"

/* At most this many moves a pass, as scx_rusty bounds its own. */
#define BAL_MAX_MOVES	8

static __u64 bal_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The busiest and the idlest of @ndoms domains. */
static void bal_extremes(const __u64 *load, int ndoms, int *hi, int *lo)
{
	int d;

	*hi = *lo = 0;
	for (d = 1; d < ndoms; d++) {
		if (load[d] > load[*hi])
			*hi = d;
		if (load[d] < load[*lo])
			*lo = d;
	}
}

/*
 * The movable item of domain @from whose move leaves the smallest gap, if
 * that narrows @gap by more than BAL_MIN_LOAD (so that near-balanced
 * domains do not trade tasks back and forth); else -1.
 */
static int bal_pick(const struct bal_item *items, int n, int from, __u64 gap)
{
	__u64 best = gap, left, twice;
	int i, pick = -1;

	for (i = 0; i < n; i++) {
		if (!items[i].movable || items[i].dom != from)
			continue;
		twice = 2ull * items[i].load;
		left = gap > twice ? gap - twice : twice - gap;
		if (left + BAL_MIN_LOAD < best) {
			best = left + BAL_MIN_LOAD;
			pick = i;
		}
	}
	return pick;
}

int bal_plan(struct bal_item *items, int n, int ndoms, int max_moves)
{
	__u64 load[BAL_MAX_DOMS] = { 0 };
	int i, hi, lo, moves = 0;

	if (ndoms < 1 || ndoms > BAL_MAX_DOMS || n < 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (items[i].dom >= 0 && items[i].dom < ndoms)
			load[items[i].dom] += items[i].load;
	while (moves < max_moves) {
		bal_extremes(load, ndoms, &hi, &lo);
		i = bal_pick(items, n, hi, load[hi] - load[lo]);
		if (i < 0)
			break;
		load[hi] -= items[i].load;
		load[lo] += items[i].load;
		items[i].dom = lo;
		items[i].moved = true;
		moves++;
	}
	return moves;
}

int bal_init(struct balancer *b, struct tld_agent *a, int ndoms)
{
	const struct tld_agent_hdr *h = tld_agent_stats(a);

	if (ndoms < 1 || ndoms > BAL_MAX_DOMS)
		return -EINVAL;
	if (h->kind[TLD_AGENT_TASK].rec_size < sizeof(struct bal_task))
		return -EMSGSIZE;
	memset(b, 0, sizeof(*b));
	b->agent = a;
	b->ndoms = ndoms;
	b->last_ns = bal_now();
	/* A restarted balancer should not reuse its predecessor's generations. */
	b->gen = (__u32)(b->last_ns >> 20);
	return 0;
}

void bal_fini(struct balancer *b)
{
	free(b->items);
	free(b->slots);
	memset(b, 0, sizeof(*b));
}

static int bal_grow(struct balancer *b)
{
	int cap = b->cap ? 2 * b->cap : 1024;
	struct bal_item *items = realloc(b->items, cap * sizeof(*items));
	struct bal_slot *slots;

	if (!items)
		return -ENOMEM;
	b->items = items;
	slots = realloc(b->slots, cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	b->slots = slots;
	b->cap = cap;
	return 0;
}

/*
 * Write @v to the field @f of @s's record. The record may die and be
 * reused for another task between the scan and this store: if it is no
 * longer @s's afterwards, the store is taken back, unless the new owner's
 * field changed meanwhile. Whether it landed.
 */
static bool bal_store(struct balancer *b, const struct bal_slot *s, __u64 *f, __u64 v)
{
	__u64 mine = v, zero = 0;

	__atomic_store_n(f, v, __ATOMIC_RELEASE);
	if (tld_agent_live(b->agent, &s->ref))
		return true;
	__atomic_compare_exchange_n(f, &mine, zero, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return false;
}

__u32 bal_place(struct balancer *b, const struct bal_slot *s, int dom)
{
	if (!++b->gen)
		b->gen++;
	return bal_store(b, s, &s->task->placement, BAL_PLACE(b->gen, dom)) ? b->gen : 0;
}

/*
 * The share of a CPU @t wanted since the last pass, @period ago, given its
 * runnable time now: 0 the first time it is seen (seen holds the runnable
 * time plus one, so that 0 means never), or if its time went backwards.
 */
static __u32 bal_load(const struct bal_task *t, __u64 runnable, __u64 period)
{
	__u64 seen = __atomic_load_n(&t->seen, __ATOMIC_RELAXED), d;

	if (!seen || runnable + 1 < seen || !period)
		return 0;
	d = runnable + 1 - seen;
	return d >= period ? BAL_ONE : d * BAL_ONE / period;
}

/* Take the record @s into the pass as @it. 0, or -EAGAIN if it died or stayed busy. */
static int bal_take(struct balancer *b, struct bal_slot *s, struct bal_item *it, __u64 now,
		    __u64 period)
{
	struct bal_sched sc;
	__u64 runnable, place;
	__s32 dom;

	if (tld_agent_read_seq(b->agent, &s->ref, 0, &sc, sizeof(sc)))
		return -EAGAIN;
	runnable = sc.runnable_ns;
	if (sc.runnable_at && sc.runnable_at < now)
		runnable += now - sc.runnable_at;
	it->load = bal_load(s->task, runnable, period);
	bal_store(b, s, &s->task->seen, runnable + 1);
	place = __atomic_load_n(&s->task->placement, __ATOMIC_RELAXED);
	dom = BAL_PLACE_DOM(place);
	it->dom = dom >= 0 && dom < b->ndoms ? dom : sc.cpu;
	it->movable = !(sc.flags & BAL_PINNED) && it->load >= BAL_MIN_LOAD;
	it->moved = false;
	return 0;
}

int bal_run(struct balancer *b, struct bal_pass *out)
{
	unsigned long pos = 0;
	struct bal_slot *s;
	__u64 now = bal_now(), period = now - b->last_ns;
	int n = 0, i, err;
	void *p;

	memset(out, 0, sizeof(*out));
	b->last_ns = now;
	for (;;) {
		if (n == b->cap && (err = bal_grow(b)))
			return err;
		s = &b->slots[n];
		p = tld_agent_next(b->agent, TLD_AGENT_TASK, &pos, &s->ref);
		if (!p)
			break;
		s->task = p;
		out->tasks++;
		if (bal_take(b, s, &b->items[n], now, period))
			out->stale++;
		else
			n++;
	}
	b->n = n;
	out->moved = bal_plan(b->items, n, b->ndoms, BAL_MAX_MOVES);
	for (i = 0; i < n; i++) {
		if (b->items[i].moved)
			bal_place(b, &b->slots[i], b->items[i].dom);
		if (b->items[i].movable)
			out->busy++;
		if (b->items[i].dom >= 0 && b->items[i].dom < b->ndoms)
			out->dom_load[b->items[i].dom] += b->items[i].load;
	}
	return 0;
}
