/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent store for BPF programs: find a task's or a cgroup's record in
 * O(1), from the task_struct or the cgroup, and read or write its payload.
 *
 *	struct my_task *t = tld_agent_task(p);	// NULL: no record (yet)
 *	if (t)
 *		t->runtime += delta;
 *
 * Include after vmlinux.h and <bpf/bpf_helpers.h>, and reuse the pinned
 * maps of `tldtool agent create` (tld_agent_arena, tld_agent_tasks,
 * tld_agent_cgroups; see tld/loader.h) before loading. Records live in the
 * arena, which the agent can write: a record's bytes are data to check,
 * never a pointer to follow. Arena accesses cannot leave the arena.
 */
#ifndef TLD_AGENT_BPF_H
#define TLD_AGENT_BPF_H

#include <tld/abi.h>
#include <tld/agent_abi.h>

#ifndef __arena
#define __arena __attribute__((address_space(1)))
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);		/* the pinned arena's size is adopted */
	__ulong(map_extra, TLD_AGENT_ADDR);
} tld_agent_arena SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tld_agent_slot);
} tld_agent_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tld_agent_slot);
} tld_agent_cgroups SEC(".maps");

/*
 * The arena byte at @off: offsets are the low half of arena addresses. The
 * verifier lets a program use arena pointers only if it names the arena.
 */
static __always_inline void __arena *tld_agent_at(__u32 off)
{
	asm volatile("" :: "r"(&tld_agent_arena));
	return (void __arena *)(TLD_AGENT_ADDR + off);
}

static __always_inline struct tld_agent_hdr __arena *tld_agent_hdr(void)
{
	return tld_agent_at(TLD_AGENT_HDR_OFF);
}

/* The live record @s names, or NULL: the slot's generation must still match. */
static __always_inline void __arena *tld_agent_rec_of(const struct tld_agent_slot *s)
{
	struct tld_agent_rec __arena *r;

	if (!s || !s->slot || !(s->gen & 1))
		return NULL;
	r = tld_agent_at(s->slot);
	if (r->gen != s->gen)
		return NULL;
	return r;
}

/* @p's record's payload, or NULL. */
static __always_inline void __arena *tld_agent_task(struct task_struct *p)
{
	struct tld_agent_rec __arena *r;

	r = tld_agent_rec_of(bpf_task_storage_get(&tld_agent_tasks, p, 0, 0));
	return r ? (void __arena *)r->payload : NULL;
}

/* @cgrp's record's payload, or NULL. */
static __always_inline void __arena *tld_agent_cgroup(struct cgroup *cgrp)
{
	struct tld_agent_rec __arena *r;

	r = tld_agent_rec_of(bpf_cgrp_storage_get(&tld_agent_cgroups, cgrp, 0, 0));
	return r ? (void __arena *)r->payload : NULL;
}

/*
 * Fields that must be read together, both ways. A section BPF writes
 * starts with a struct tld_seq and each change is wrapped in
 * tld_agent_update_begin()/end(); the agent copies it with
 * tld_agent_read_seq() (tld/agent.h). One writer per section at a time.
 * x86-64 keeps stores in order, so compiler barriers suffice.
 */
static __always_inline void tld_agent_update_begin(struct tld_seq __arena *s)
{
	s->seq = s->seq + 1;
	asm volatile("" ::: "memory");
}

static __always_inline void tld_agent_update_end(struct tld_seq __arena *s)
{
	asm volatile("" ::: "memory");
	s->seq = s->seq + 1;
}

#ifndef TLD_SEQ_RETRIES
#define TLD_SEQ_RETRIES	16
#endif

/*
 * The other way: copy *@dst's size from @src, a section the agent writes
 * between tld_update_begin() and tld_update_end() (tld/tld.h), starting
 * with its struct tld_seq. 0, or -EBUSY if the agent stayed busy.
 */
#define tld_agent_read_seq(dst, src)						\
	({									\
		const struct tld_seq __arena *__s = (const void __arena *)(src);	\
		int __i, __ret = -16;	/* -EBUSY */				\
		__u32 __seq;							\
										\
		bpf_for(__i, 0, TLD_SEQ_RETRIES) {				\
			__seq = *(volatile const __u32 __arena *)&__s->seq;	\
			asm volatile("" ::: "memory");				\
			if (__seq & 1)						\
				continue;					\
			__builtin_memcpy((dst), (const void __arena *)__s, sizeof(*(dst)));	\
			asm volatile("" ::: "memory");				\
			if (*(volatile const __u32 __arena *)&__s->seq == __seq) {	\
				__ret = 0;					\
				break;						\
			}							\
		}								\
		__ret;								\
	})

#endif /* TLD_AGENT_BPF_H */
