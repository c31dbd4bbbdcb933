/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A load balancer in the manner of Atropos and scx_rusty's, on the agent
 * store: what the balancer (a user-space agent) and its BPF consumers
 * agree on. The store's task records hold a struct bal_task, so the store
 * is made with `tldtool agent create --task-size 64` or more.
 *
 * BPF accounts each task's runnable time and run time in @sched. The
 * balancer scans every record, turns runnable time into a load (the share
 * of a CPU the task wanted), moves tasks from the busiest domain to the
 * idlest, and writes each move into @placement. The scheduler (scx_tld)
 * applies it at the task's next enqueue and says so in @applied. A domain
 * is one CPU here; scx_rusty's are last-level caches.
 */
#ifndef EXAMPLES_BALANCE_H
#define EXAMPLES_BALANCE_H

#include <tld/abi.h>

#define BAL_MAX_DOMS	64
/* Loads are in 1/BAL_ONE of a CPU. */
#define BAL_ONE		1024
/* Tasks that want less than this are left where they run. */
#define BAL_MIN_LOAD	(BAL_ONE / 64)

/* BPF writes this, between tld_agent_update_begin() and end(). */
struct bal_sched {
	struct tld_seq seq;
	__u64 runnable_ns;	/* runnable (queued or running), closed spells */
	__u64 runnable_at;	/* when the open spell began; 0 while asleep */
	__u64 runtime_ns;	/* CPU time, as of when it last stopped running */
	__s32 cpu;		/* the CPU it last ran on */
	__u32 flags;
};

/* The task may not run on every CPU (a kernel thread, or pinned). */
#define BAL_PINNED	1u

struct bal_task {
	struct bal_sched sched;	/* BPF's */
	/*
	 * The agent's: BAL_PLACE(gen, dom), or 0 for none. One 64-bit store,
	 * so BPF never sees a domain with another placement's generation.
	 */
	__u64 placement;
	__u32 applied;		/* BPF's: the generation it last applied */
	__u32 reserved;
	__u64 seen;		/* the agent's: runnable time at its last pass */
};

#define BAL_PLACE(gen, dom)	((__u64)(__u32)(gen) << 32 | (__u32)((dom) + 1))
#define BAL_PLACE_GEN(v)	((__u32)((v) >> 32))
#define BAL_PLACE_DOM(v)	((__s32)(__u32)(v) - 1)

#ifndef __bpf__
#include <stdbool.h>
#include <tld/agent.h>

_Static_assert(sizeof(struct bal_task) == 64, "the store's default task size");

/* One task as the planner sees it. */
struct bal_item {
	__u32 load;		/* in 1/BAL_ONE of a CPU */
	__s32 dom;		/* its placement, else the CPU it last ran on */
	bool movable;
	bool moved;		/* set by bal_plan() */
};

/*
 * Move tasks from the busiest domain to the idlest while a move narrows
 * the gap between them, at most @max_moves times; moved items get their
 * new domain and moved set. Items whose domain is not in [0, @ndoms) count
 * nowhere and stay. Returns the number of moves.
 */
int bal_plan(struct bal_item *items, int n, int ndoms, int max_moves);

struct bal_pass {
	int tasks;		/* live records scanned */
	int busy;		/* of which loaded enough to move */
	int moved;
	int stale;		/* records that died or stayed busy during the copy */
	__u32 dom_load[BAL_MAX_DOMS];
};

/* A record the pass took: who it names, and where it is. */
struct bal_slot {
	struct tld_agent_ref ref;
	struct bal_task *task;
};

struct balancer {
	struct tld_agent *agent;
	int ndoms;
	__u32 gen;		/* the last placement generation written */
	__u64 last_ns;		/* when the last pass ran */
	struct bal_item *items;	/* this pass's, in step with @slots */
	struct bal_slot *slots;
	int n;			/* taken by the last pass */
	int cap;
};

/* Over the store @a, with @ndoms domains. 0 or -errno. */
int bal_init(struct balancer *b, struct tld_agent *a, int ndoms);
void bal_fini(struct balancer *b);

/*
 * One pass: scan every task record, take each task's load since the last
 * pass, plan, and write the moves. 0 or -errno.
 */
int bal_run(struct balancer *b, struct bal_pass *out);

/*
 * Place @s's task in @dom now. Its generation, or 0 if the record died
 * meanwhile (nothing is left written then).
 */
__u32 bal_place(struct balancer *b, const struct bal_slot *s, int dom);
#endif

#endif
