// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The guard. The kernel lets any process that can open the map attach its
 * own pages to any task's entry, or delete it. This kernel refuses fentry,
 * fexit and LSM programs, so the writes cannot be refused; instead:
 *
 * - a thread vouches for its own entry (TLD_VOUCH in tld/abi.h) through a
 *   prctl() that this program sees as current, whatever pidfd a writer
 *   used, and the verdict names the pinned pages; tld.bpf.h readers trust
 *   an entry only if it is the vouched one;
 * - entries nobody vouched for are removed before their task is woken or
 *   switched in, for readers that do not check (the upstream header);
 * - vouched entries found deleted or replaced are counted as erased;
 * - a removal the kernel refuses for now is retried (retry_tid below).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/map.bpf.h>

#include "tld_guard.h"

#define NR_PRCTL	157	/* x86-64 */
#define PR_SET_NAME	15
#define CAP_SYS_ADMIN	21
#define CAP_BPF		39
#define EBUSY		16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tld_guard_state);
} tld_guard_state SEC(".maps");

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static struct tld_guard_state *state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tld_guard_state, &zero);
}

/* CAP_SYS_ADMIN or CAP_BPF in the initial user namespace. */
static bool privileged(struct task_struct *t)
{
	__u64 caps = BPF_CORE_READ(t, cred, cap_effective.val);

	return !BPF_CORE_READ(t, cred, user_ns, level) &&
	       caps & (1ull << CAP_SYS_ADMIN | 1ull << CAP_BPF);
}

/*
 * Record @target's entry as vouched if its page carries @cookie. The commit
 * announces the cookie itself before its final lookup: a thread commits
 * without announcing (tld/abi.h), and on 7.x this program may be preempted
 * and the task swept at its switch-in meanwhile; the sweep then keeps the
 * entry as announced (kept()) instead of deleting what is vouched a moment
 * later. The announcement is taken back if the commit fails, so that no
 * pending cookie outlives it: a plant carrying it would be kept, and its
 * sweeping, or not, would tell a guesser the secret.
 */
static void commit(struct task_struct *target, struct tld_verdict *g, __u64 cookie,
		   __u32 voucher, struct tld_guard_state *s)
{
	struct tld_map_value *v = bpf_task_storage_get(&tld_data_map, target, 0, 0);
	struct tld_data_u *data;

	/* Every guard sees every vouch: no entry here, not this map's. */
	if (!v)
		return;
	g->pending = cookie;
	barrier();
	v = bpf_task_storage_get(&tld_data_map, target, 0, 0);
	data = v ? v->data : NULL;
	if (!data || data->unused != cookie) {
		__sync_val_compare_and_swap(&g->pending, cookie, 0);
		if (v)
			__sync_fetch_and_add(&s->mismatched, 1);
		return;
	}
	g->data = (__u64)data;
	g->meta = (__u64)v->meta;
	g->start = v->start;
	g->voucher = voucher;
	/* The entry's fields before the announcement goes: see kept(). */
	barrier();
	g->pending = 0;
	g->withdrawn = 0;
	__sync_fetch_and_add(&s->vouched, 1);
	/* Last: the thread takes the flip to mean its verdict is written. */
	data->unused = cookie ^ TLD_COOKIE_VOUCHED;
}

static void vouch(struct task_struct *cur, struct task_struct *target, __u32 op, __u64 cookie,
		  struct tld_guard_state *s)
{
	struct tld_verdict *g;

	if (target->tgid != cur->tgid && !privileged(cur)) {
		__sync_fetch_and_add(&s->refused, 1);
		return;
	}
	g = bpf_task_storage_get(&tld_guard_map, target, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!g)
		return;
	switch (op) {
	case TLD_VOUCH_ANNOUNCE:
		g->pending = cookie;
		break;
	case TLD_VOUCH_COMMIT:
		commit(target, g, cookie, cur->tgid, s);
		break;
	case TLD_VOUCH_WITHDRAW:
		__builtin_memset(g, 0, sizeof(*g));
		g->withdrawn = 1;
		__sync_fetch_and_add(&s->withdrawn, 1);
		break;
	}
}

/* @t's tid as pid namespace level @level numbers it. */
static __u32 tid_at(struct task_struct *t, __u32 level)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	struct upid up = {};

	if (level > BPF_CORE_READ(pid, level))
		return 0;
	bpf_core_read(&up, sizeof(up), &pid->numbers[level]);
	return up.nr;
}

/*
 * The thread of @cur's process that @cur's pid namespace, at @level, calls
 * @tid: a vouch from inside a pid namespace names its thread as that
 * namespace sees it (gettid()), and bpf_task_from_pid() would find the
 * initial namespace's task of that number. Only the caller's own process
 * is searched: the one it may vouch for unprivileged, and, privileged,
 * the only one a container's number can be trusted to mean.
 */
static struct task_struct *own_thread(struct task_struct *cur, __u32 tid, __u32 level)
{
	struct task_struct *t, *found = NULL;

	if (tid_at(cur, level) == tid)
		return cur;
	bpf_for_each(task, t, cur, BPF_TASK_ITER_PROC_THREADS) {
		if (tid_at(t, level) == tid) {
			found = t;
			break;
		}
	}
	return found;
}

/* prctl(PR_SET_NAME, name, TLD_VOUCH(op), cookie, tid): see tld/abi.h. */
SEC("tp_btf/task_rename")
int BPF_PROG(tld_guard_vouch, struct task_struct *task, const char *comm)
{
	struct task_struct *cur = bpf_get_current_task_btf(), *target;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
	struct tld_guard_state *s = state();
	__u32 tid, level;
	__u64 arg3;

	if (!s || BPF_CORE_READ(regs, orig_ax) != NR_PRCTL ||
	    BPF_CORE_READ(regs, di) != PR_SET_NAME)
		return 0;
	arg3 = BPF_CORE_READ(regs, dx);
	if (arg3 >> 32 != TLD_VOUCH_MAGIC)
		return 0;
	tid = BPF_CORE_READ(regs, r8);
	level = BPF_CORE_READ(cur, thread_pid, level);
	if (!level) {
		target = bpf_task_from_pid(tid);
		if (!target)
			return 0;
		vouch(cur, target, (__u32)arg3, BPF_CORE_READ(regs, r10), s);
		bpf_task_release(target);
		return 0;
	}
	target = own_thread(cur, tid, level);
	if (target)
		vouch(cur, target, (__u32)arg3, BPF_CORE_READ(regs, r10), s);
	else
		__sync_fetch_and_add(&s->refused, 1);
	return 0;
}

static bool announced(struct tld_verdict *g, struct tld_map_value *v)
{
	__u64 pending = *(volatile __u64 *)&g->pending;
	struct tld_data_u *data = v->data;

	return pending && data && data->unused == pending;
}

/*
 * Whether @v is the entry @g vouched for or announced. A commit may run on
 * another CPU meanwhile (a thread vouching for another of its process's,
 * or the task itself while a retry sweeps it): it writes the entry's
 * fields and then clears pending. Reading pending first, a sweep that
 * finds it cleared then finds the fields written: x86-64 keeps loads in
 * order, and stores, and the barriers keep the compiler from moving them.
 */
static bool kept(struct tld_verdict *g, struct tld_map_value *v)
{
	bool ann;

	if (!g)
		return false;
	ann = announced(g, v);
	barrier();
	return ann || tld_verdict_names(g, v->data, v->meta, v->start);
}

/*
 * Remove @p's entry if nobody vouched for it: 1 if removed, 0 if there was
 * nothing to remove, -EBUSY if the kernel refused the delete for now.
 */
static int sweep(struct task_struct *p, struct tld_guard_state *s)
{
	struct tld_map_value *v;
	struct tld_verdict *g;
	int err;

	/*
	 * Most tasks have no task storage at all, so neither an entry nor a
	 * verdict: one load instead of two lookups. bpf_stats, perf bench
	 * sched pipe: 110 ns a run before, 75-93 after.
	 */
	if (!p->bpf_storage)
		return 0;
	v = bpf_task_storage_get(&tld_data_map, p, 0, 0);
	g = bpf_task_storage_get(&tld_guard_map, p, 0, 0);
	if (g && g->data && (!v || !kept(g, v))) {
		/*
		 * The owner withdraws before it deletes or replaces its entry:
		 * someone else deleted or replaced this one. Only a vouched
		 * entry counts (g->data): a task's own unvouched pages, or a
		 * verdict that is only an announcement, are nobody's loss.
		 */
		g->data = g->meta = 0;
		__sync_fetch_and_add(&s->erased, 1);
	}
	if (!v || !s->sweep || kept(g, v))
		return 0;
	err = bpf_task_storage_delete(&tld_data_map, p);
	if (err)
		return err == -EBUSY ? err : 0;
	__sync_fetch_and_add(&s->swept, 1);
	return 1;
}

/*
 * Sweeps the kernel refused. Before 7.0 a per-CPU busy count makes every
 * task-storage delete on a CPU fail with -EBUSY while another task-storage
 * operation is in progress there: an interrupt that wakes the task, or a
 * preemption, inside a map syscall. Such a task's tid (the initial
 * namespace's) waits here, and every guard run on any CPU retries it until
 * the delete lands, instead of leaving the plant to the task's next wakeup.
 */
__u64 retry_tid[TLD_GUARD_RETRY_SLOTS];
__u64 retry_queued;

/* Put @tid in a free slot; false if none is free. */
static bool retry_put(__u64 tid)
{
	__u32 i;

	bpf_for(i, 0, TLD_GUARD_RETRY_SLOTS) {
		if (!__sync_val_compare_and_swap(&retry_tid[i], 0, tid)) {
			__sync_fetch_and_add(&retry_queued, 1);
			return true;
		}
	}
	return false;
}

/* A refused sweep of @p: counted once however often it is refused again. */
static void queue_retry(struct task_struct *p, struct tld_guard_state *s)
{
	__u64 tid = p->pid;
	__u32 i;

	bpf_for(i, 0, TLD_GUARD_RETRY_SLOTS) {
		if (retry_tid[i] == tid)
			return;
	}
	__sync_fetch_and_add(&s->busy, 1);
	if (!retry_put(tid))
		__sync_fetch_and_add(&s->unqueued, 1);
}

/*
 * Take each queued tid (whoever empties its slot retries it) and sweep
 * its task; a refusal again goes back in the queue.
 */
static void retry(struct tld_guard_state *s)
{
	struct task_struct *t;
	__u64 tid;
	__u32 i;
	int ret;

	bpf_for(i, 0, TLD_GUARD_RETRY_SLOTS) {
		tid = retry_tid[i];
		if (!tid || __sync_val_compare_and_swap(&retry_tid[i], tid, 0) != tid)
			continue;
		__sync_fetch_and_sub(&retry_queued, 1);
		/* Gone, or a new task of that tid: the sweep's rule holds for either. */
		t = bpf_task_from_pid(tid);
		if (!t)
			continue;
		ret = sweep(t, s);
		bpf_task_release(t);
		if (ret > 0)
			__sync_fetch_and_add(&s->retried, 1);
		else if (ret == -EBUSY && !retry_put(tid))
			__sync_fetch_and_add(&s->unqueued, 1);
	}
}

/* task_struct.on_rq is an int before 7.0 and a u8 since: CO-RE sizes an unsigned load. */
struct task_struct___on_rq {
	unsigned int on_rq;
} __attribute__((preserve_access_index));

/* Since 6.12 a fair task may stay queued while it sleeps (a delayed dequeue). */
struct sched_entity___delayed {
	unsigned char sched_delayed;
} __attribute__((preserve_access_index));

struct task_struct___delayed {
	struct sched_entity___delayed se;
} __attribute__((preserve_access_index));

/*
 * Whether a wakeup of @p enqueues it before it runs again: it was dequeued,
 * or its dequeue was delayed (it sleeps, queued, and is never picked).
 */
static bool wakeup_enqueues(struct task_struct *p)
{
	struct task_struct___delayed *d = (void *)p;

	if (!((struct task_struct___on_rq *)p)->on_rq)
		return true;
	return bpf_core_field_exists(d->se.sched_delayed) && d->se.sched_delayed;
}

/* Retry the queue, then sweep @p, unless @waking and @p is still on a runqueue. */
static void guard_run(struct task_struct *p, bool waking)
{
	struct tld_guard_state *s;
	bool sweep_p;

	if (!retry_queued && !p->bpf_storage)
		return;
	s = state();
	if (!s)
		return;
	if (retry_queued)
		retry(s);
	sweep_p = !waking || wakeup_enqueues(p);
	if (sweep_p && sweep(p, s) == -EBUSY)
		queue_retry(p, s);
}

/*
 * A task still on its runqueue, not delayed, never went to sleep: this
 * wakeup enqueues nothing, and the task may be running on its CPU
 * meanwhile, its state set on the way to a sleep it will not take (a lock
 * granted while it spun).
 * A thread vouches for its own entry without announcing it (tld/abi.h), so
 * its commit could land between this sweep's check and its delete, and the
 * vouched entry go. Such a task is swept at its next switch-in instead,
 * before it runs; a dequeued one runs only once this wakeup has enqueued
 * it, after this program. x86-64 loads are not reordered, so on_rq is read
 * after try_to_wake_up() read the state, as its smp_rmb() wants.
 */
SEC("tp_btf/sched_waking")
int BPF_PROG(tld_guard_waking, struct task_struct *p)
{
	guard_run(p, true);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tld_guard_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	guard_run(next, false);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
