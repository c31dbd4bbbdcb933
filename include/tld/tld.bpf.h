/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tld for BPF programs: read the values threads publish with libtld.
 *
 * The calls have the upstream task_local_data.bpf.h shapes, so a program
 * can switch headers with no other change:
 *
 *	struct tld_keys {
 *		tld_key_t prio;		// one cache slot per key the program reads
 *	};
 *
 *	struct tld_object obj;
 *	__u64 *prio;
 *
 *	if (tld_object_init(task, &obj))
 *		return 0;		// the task has no tld data
 *	prio = tld_get_data(&obj, prio, "prio", sizeof(*prio));
 *	if (prio)
 *		use(*prio);
 *
 * @task may be any task, not only current. A key is resolved by name once
 * per task and its offset cached in tld_key_map. Whatever user space wrote
 * in its meta page, a returned pointer p has [p, p + size) inside the
 * task's data area and inside one published key of at least @size bytes.
 *
 * Only entries that their own process vouched for are read (see
 * tld_vouched()).
 *
 * Include after vmlinux.h and <bpf/bpf_helpers.h>; reuse the pinned
 * tld_data_map and tld_guard_map (see tld/loader.h) before loading.
 */
#ifndef TLD_TLD_BPF_H
#define TLD_TLD_BPF_H

#include <tld/map.bpf.h>

#ifndef ENODATA
#define ENODATA		61
#endif
#ifndef ENOMEM
#define ENOMEM		12
#endif
#ifndef EINVAL
#define EINVAL		22
#endif

#ifndef EBUSY
#define EBUSY		16
#endif
#ifndef EACCES
#define EACCES		13
#endif
#ifndef ENOENT
#define ENOENT		2
#endif

#ifndef TLD_KEY_MAP_CREATE_RETRY
#define TLD_KEY_MAP_CREATE_RETRY 10
#endif

/*
 * A key's cache slot for one task. The cookie ties it to the process image
 * that wrote the meta page, so that offsets cached before an exec are not
 * used after it.
 */
typedef struct {
	__u32 cookie;
	__s16 off;	/* > 0: in-page offset of the value; <= 0: -(entries scanned) */
	__u16 pad;
} tld_key_t;

/* Defined by the program: one tld_key_t member per key it reads. */
struct tld_keys;

/* How many keys struct tld_keys may have; define it higher before including. */
#ifndef TLD_KEY_CACHE_KEYS
#define TLD_KEY_CACHE_KEYS	16
#endif

/*
 * A reader's cache for one task, in the reader's own task storage: the
 * entry it last found vouched (the memo), so that while the task keeps that
 * entry a read needs no verdict lookup, then the program's struct tld_keys.
 * The memo names the entry by its pinned pages' kernel addresses, its data
 * page's cookie, and the task's exec count: docs/security.md argues why no
 * planted entry can match it.
 */
struct tld_key_cache {
	__u64 data;
	__u64 meta;
	__u64 cookie;
	__u64 exec_id;	/* task->self_exec_id when vouched: an exec changes owners */
	__u16 start;
	__u16 pad[3];
	tld_key_t keys[TLD_KEY_CACHE_KEYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tld_key_cache);
} tld_key_map SEC(".maps");

struct tld_object {
	struct tld_map_value *data_map;
	struct tld_key_cache *key_map;
	char *data;
	struct tld_meta_u *meta;
	__u32 cookie;
	__u16 start;
};

static __always_inline __u32 tld_cookie32(__u64 cookie)
{
	return (__u32)(cookie ^ (cookie >> 32));
}

#ifndef TLD_TRUST_UNVOUCHED
/* Whether @c's memo names this entry of @task, as it was vouched. */
static __always_inline bool tld_memo_hit(const struct tld_key_cache *c, struct task_struct *task,
					  struct tld_data_u *data, void *meta, __u16 start)
{
	return c->data == (__u64)data && c->meta == (__u64)meta && c->start == start &&
	       c->cookie == data->unused && c->exec_id == task->self_exec_id;
}

/*
 * Whether @task's entry is the one its own process vouched for (struct
 * tld_verdict in tld/abi.h): any other process that can open the map can
 * attach pages to any task, but cannot make the guard vouch for them.
 */
static __always_inline bool tld_verdict_ok(struct task_struct *task, void *data, void *meta,
					    __u16 start)
{
	struct tld_verdict *g = bpf_task_storage_get(&tld_guard_map, task, 0, 0);

	return g && tld_verdict_names(g, data, meta, start);
}

static __always_inline void tld_memo_set(struct tld_key_cache *c, struct task_struct *task,
					  struct tld_data_u *data, void *meta, __u16 start)
{
	c->data = (__u64)data;
	c->meta = (__u64)meta;
	c->start = start;
	c->cookie = data->unused;
	c->exec_id = task->self_exec_id;
}
#endif

/* @task's key cache, made if it has none; NULL if none can be made. */
static __always_inline struct tld_key_cache *tld_key_cache_make(struct task_struct *task)
{
	struct tld_key_cache *c;
	int i;

	/* Outside the loop, a read pays for no iterator kfuncs. */
	c = bpf_task_storage_get(&tld_key_map, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (c)
		return c;
	bpf_for(i, 1, TLD_KEY_MAP_CREATE_RETRY) {
		c = bpf_task_storage_get(&tld_key_map, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (c)
			break;
	}
	return c;
}

/*
 * @task's key cache if its entry is one its own process vouched for, else
 * NULL with -EACCES, or -ENOMEM if no cache can be made: a memo in the
 * cache saves the verdict lookup while the entry stays the vouched one, and
 * an entry nobody vouched for makes no cache. Define TLD_TRUST_UNVOUCHED to
 * read entries no guard vouched for, such as those of the upstream
 * user-side header, and accept that risk.
 */
static __always_inline struct tld_key_cache *tld_vouched(struct task_struct *task,
							  struct tld_data_u *data, void *meta,
							  __u16 start, int *err)
{
	struct tld_key_cache *c;

#ifndef TLD_TRUST_UNVOUCHED
	c = bpf_task_storage_get(&tld_key_map, task, 0, 0);
	if (c && tld_memo_hit(c, task, data, meta, start))
		return c;
	*err = -EACCES;
	if (!tld_verdict_ok(task, data, meta, start))
		return NULL;
#endif
	c = tld_key_cache_make(task);
	*err = -ENOMEM;
	if (!c)
		return NULL;
#ifndef TLD_TRUST_UNVOUCHED
	tld_memo_set(c, task, data, meta, start);
#endif
	return c;
}

/*
 * Look up @task's entry. 0, or -ENODATA if the task has no tld data,
 * -EINVAL if its entry is malformed, -EACCES if its process did not vouch
 * for it, -ENOMEM if no key cache can be made.
 */
__attribute__((unused))
static int tld_object_init(struct task_struct *task, struct tld_object *obj)
{
	struct tld_map_value *v;
	struct tld_data_u *data;
	struct tld_meta_u *meta;
	__u16 start;
	int err = 0;

	obj->key_map = NULL;
	v = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	obj->data_map = v;
	if (!v)
		return -ENODATA;
	data = v->data;
	meta = v->meta;
	if (!data || !meta)
		return -ENODATA;
	start = v->start;
	if (start < TLD_DATA_HDR || start >= TLD_PAGE_SIZE || start % TLD_KEY_ALIGN)
		return -EINVAL;
	obj->key_map = tld_vouched(task, data, meta, start, &err);
	if (!obj->key_map)
		return err;
	obj->data = (char *)data;
	obj->meta = meta;
	obj->start = start;
	obj->cookie = tld_cookie32(data->unused);
	return 0;
}

/*
 * Scan the entries not yet seen for @name and cache the answer in @k: the
 * value's in-page offset, or -(entries scanned) if it is absent or too
 * small. tld_get_data() checks that the value fits the page. The caller
 * reads @k back rather than a return value, so the verifier need not track
 * the scan's offsets precisely and the loop converges.
 */
static __noinline void __tld_fetch_key(struct tld_object *obj, tld_key_t *k,
				       const char *name, __u32 size)
{
	struct tld_meta_u *meta = obj->meta;
	int i, cnt, seen = 0;
	__u32 off = 0, sz;

	if (!meta || !k)
		return;
	if (k->cookie == obj->cookie && k->off <= 0)
		seen = -k->off;
	cnt = meta->cnt;
	if (cnt > TLD_MAX_KEYS)
		cnt = TLD_MAX_KEYS;
	if (seen >= cnt)
		goto miss;

	bpf_for(i, 0, cnt) {
		if (i >= TLD_MAX_KEYS)
			break;
		sz = meta->metadata[i].size;
		if (i >= seen && sz >= size &&
		    !bpf_strncmp(meta->metadata[i].name, TLD_NAME_LEN, name)) {
			k->cookie = obj->cookie;
			k->off = obj->start + off;
			return;
		}
		off += TLD_ROUND_KEY(sz);
		if (off > TLD_DATA_MAX)
			break;
	}
miss:
	k->cookie = obj->cookie;
	k->off = -(__s16)cnt;
}

/*
 * A pointer to @task's value of the key @name (a string literal) of @size
 * bytes (a constant), or NULL. @key names the key's tld_key_t member of
 * struct tld_keys.
 */
#define tld_get_data(obj, key, name, size)					\
	({									\
		struct tld_object *__tld_o = (obj);				\
		tld_key_t *__tld_k =						\
			&((struct tld_keys *)__tld_o->key_map->keys)->key;	\
		long __tld_off = __tld_k->off;					\
		void *__tld_p = NULL;						\
										\
		_Static_assert(sizeof(struct tld_keys) <=			\
			       sizeof(__tld_o->key_map->keys),			\
			       "more keys than TLD_KEY_CACHE_KEYS");		\
		if (__tld_k->cookie != __tld_o->cookie || __tld_off <= 0) {	\
			__tld_fetch_key(__tld_o, __tld_k, name, size);		\
			__tld_off = __tld_k->off;				\
		}								\
		/* Two tests, kept apart: clang would fuse them into one	\
		 * range check on a copy the verifier cannot tie back. */	\
		if (__tld_off > 0) {						\
			barrier_var(__tld_off);					\
			if (__tld_off <= TLD_PAGE_SIZE - (long)(size))		\
				__tld_p = __tld_o->data + __tld_off;		\
		}								\
		__tld_p;							\
	})

#ifndef TLD_SEQ_RETRIES
#define TLD_SEQ_RETRIES	16
#endif

/*
 * Copy @size bytes that start with a struct tld_seq from @s to @dst: 0 with
 * a consistent copy, or -EBUSY if the writer was busy for TLD_SEQ_RETRIES
 * tries. Only tld_read_seq() calls it, with @s looked up with @size bytes:
 * a smaller key would let the copy run past its value.
 *
 * The loads are ordered by the compiler barriers alone: that holds on
 * x86-64, whose loads are not reordered with each other.
 */
static __always_inline int __tld_copy_seq(void *dst, const struct tld_seq *s, __u32 size)
{
	__u32 seq;
	int i;

	bpf_for(i, 0, TLD_SEQ_RETRIES) {
		seq = *(volatile const __u32 *)&s->seq;
		asm volatile("" ::: "memory");
		if (seq & 1)
			continue;
		__builtin_memcpy(dst, s, size);
		asm volatile("" ::: "memory");
		if (*(volatile const __u32 *)&s->seq == seq)
			return 0;
	}
	return -EBUSY;
}

/*
 * Copy the value of the key @name (a string literal) of @obj's task to
 * *@dst, a struct that starts with a struct tld_seq and that its thread
 * changes between tld_update_begin() and tld_update_end() (tld/tld.h). The
 * key is looked up with sizeof(*@dst) bytes, and as many are copied; @key
 * names its tld_key_t member of struct tld_keys, as for tld_get_data():
 *
 *	struct request { struct tld_seq seq; __u64 id, tenant; } r;
 *
 *	if (!tld_read_seq(&obj, request, "request", &r))
 *		use(r.id, r.tenant);	// both from the same update
 *
 * Returns 0 with a consistent copy, -ENOENT if the key is absent or smaller
 * than *@dst, or -EBUSY if the writer was busy for TLD_SEQ_RETRIES tries.
 */
#define tld_read_seq(obj, key, name, dst)					\
	({									\
		const struct tld_seq *__tld_s =					\
			tld_get_data(obj, key, name, sizeof(*(dst)));		\
										\
		_Static_assert(sizeof(*(dst)) >= sizeof(struct tld_seq),	\
			       "*dst starts with a struct tld_seq");		\
		__tld_s ? __tld_copy_seq(dst, __tld_s, sizeof(*(dst))) :	\
			  -ENOENT;						\
	})

#endif /* TLD_TLD_BPF_H */
