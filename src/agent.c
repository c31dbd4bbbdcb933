// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent's view of the store: the arena mapped where BPF programs see
 * it, and lookups that follow the same index the keeper writes.
 *
 * The arena is writable by whoever may open it, so its geometry is read
 * once, checked, and kept here; every offset read later is checked against
 * this copy before it is followed, and every probe is bounded, so that a
 * corrupt store gives wrong answers at worst, never a fault. A record is
 * accepted only if its generation is odd (live) and the same before and
 * after its id is read (x86-64 keeps loads in order; the fences are for
 * the compiler and for other machines).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "internal.h"
#include "syscall.h"
#include "tld/agent.h"

struct tld_agent_geo {
	__u32 stride;
	__u32 size;
	__u32 index;
	__u32 buckets;
};

struct tld_agent {
	char *base;
	size_t len;
	__u32 data;
	struct tld_agent_geo kind[TLD_AGENT_KINDS];
	char dir[PATH_MAX];
};

static const char *tld_agent_path(const struct tld_agent_opts *opts)
{
	const char *env = secure_getenv("TLD_AGENT_PATH");

	if (opts && opts->sz >= offsetof(struct tld_agent_opts, path) + sizeof(opts->path) &&
	    opts->path)
		return opts->path;
	return env && *env ? env : TLD_AGENT_DEFAULT_PATH;
}

static int tld_agent_arena_fd(const char *dir, struct bpf_map_info *info)
{
	char path[PATH_MAX + 8];
	int fd, err;

	snprintf(path, sizeof(path), "%s/arena", dir);
	fd = tld_bpf_obj_get(path);
	if (fd < 0)
		return tld__err(fd, "cannot open the agent store %s (create it with 'tldtool agent create')",
				path);
	err = tld_bpf_map_info(fd, info);
	if (!err && (info->type != BPF_MAP_TYPE_ARENA || info->map_extra != TLD_AGENT_ADDR ||
		     !info->max_entries || info->max_entries > TLD_AGENT_PAGES_MAX))
		err = tld__err(-EINVAL, "%s is not a tld agent store (an arena of at most %u pages at %#llx)",
			       path, TLD_AGENT_PAGES_MAX, TLD_AGENT_ADDR);
	else if (err)
		tld__err(err, "cannot query %s", path);
	if (err) {
		tld_sys_close(fd);
		return err;
	}
	return fd;
}

/* Copy and check one kind's geometry: its index and slots fit the arena. */
static int tld_agent_kind_check(struct tld_agent *a, const struct tld_agent_kind_hdr *k,
				int kind)
{
	struct tld_agent_geo *g = &a->kind[kind];

	g->stride = k->stride;
	g->size = k->rec_size;
	g->index = k->index;
	g->buckets = k->buckets;
	if (g->stride != TLD_AGENT_STRIDE(g->size) ||
	    g->stride > TLD_AGENT_PAGE - TLD_AGENT_PAGE_HDR || !g->buckets ||
	    (g->buckets & (g->buckets - 1)) || g->index % TLD_AGENT_PAGE ||
	    (size_t)g->index + (size_t)g->buckets * sizeof(__u32) > a->data)
		return -EUCLEAN;
	return 0;
}

static int tld_agent_check(struct tld_agent *a)
{
	const struct tld_agent_hdr *h = (const void *)(a->base + TLD_AGENT_HDR_OFF);
	int kind, err;

	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != TLD_AGENT_MAGIC)
		return tld__err(-EUCLEAN, "agent store %s has no header: it was not made by tldtool, or not finished",
				a->dir);
	if (h->version != TLD_AGENT_VERSION)
		return tld__err(-EPROTO, "agent store %s is version %u; this libtld reads version %d",
				a->dir, h->version, TLD_AGENT_VERSION);
	a->data = h->data;
	if (a->data % TLD_AGENT_PAGE || a->data >= a->len)
		return tld__err(-EUCLEAN, "agent store %s: its data offset %u is outside the arena",
				a->dir, a->data);
	for (kind = 0; kind < TLD_AGENT_KINDS; kind++) {
		err = tld_agent_kind_check(a, &h->kind[kind], kind);
		if (err)
			return tld__err(err, "agent store %s: the layout of its %s records is corrupt",
					a->dir, kind == TLD_AGENT_TASK ? "task" : "cgroup");
	}
	return 0;
}

TLD_API int tld_agent_open(const struct tld_agent_opts *opts, struct tld_agent **out)
{
	struct bpf_map_info info;
	struct tld_agent *a;
	void *base;
	int fd, err;

	err = tld__opts_check(opts, opts ? opts->sz : 0, sizeof(*opts), "tld_agent_opts");
	if (err)
		return err;
	if (strlen(tld_agent_path(opts)) >= sizeof(a->dir) - 16)
		return tld__err(-ENAMETOOLONG, "agent store path is longer than %d bytes",
				PATH_MAX - 17);
	a = calloc(1, sizeof(*a));
	if (!a)
		return tld__err(-ENOMEM, "cannot allocate an agent");
	snprintf(a->dir, sizeof(a->dir), "%s", tld_agent_path(opts));
	fd = tld_agent_arena_fd(a->dir, &info);
	if (fd < 0) {
		free(a);
		return fd;
	}
	a->len = (size_t)info.max_entries * TLD_AGENT_PAGE;
	/* The kernel puts every mapping of an arena at its one address. */
	base = mmap((void *)TLD_AGENT_ADDR, a->len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	tld_sys_close(fd);
	if (base == MAP_FAILED) {
		err = tld__err(-errno, "cannot map the agent store %s at %#llx", a->dir,
			       TLD_AGENT_ADDR);
		free(a);
		return err;
	}
	a->base = base;
	err = tld_agent_check(a);
	if (err) {
		tld_agent_close(a);
		return err;
	}
	*out = a;
	return 0;
}

TLD_API void tld_agent_close(struct tld_agent *a)
{
	if (!a)
		return;
	munmap(a->base, a->len);
	free(a);
}

static int tld_agent_run(struct tld_agent *a, const char *name)
{
	char path[PATH_MAX + 16], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", a->dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tld__err(-errno, "cannot run the store's keeper %s", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0)
		n = tld__err(-errno, "the store's keeper %s failed", path);
	close(fd);
	return n;
}

TLD_API int tld_agent_maintain(struct tld_agent *a)
{
	return tld_agent_run(a, "keep_tasks") ?: tld_agent_run(a, "keep_cgroups");
}

/* The record at @slot if it is a slot of @kind's, else NULL. */
static struct tld_agent_rec *tld_agent_rec(struct tld_agent *a, int kind, __u32 slot)
{
	const struct tld_agent_geo *g = &a->kind[kind];
	__u32 in = slot % TLD_AGENT_PAGE;

	if (slot < a->data || (size_t)slot + g->stride > a->len || in < TLD_AGENT_PAGE_HDR ||
	    (in - TLD_AGENT_PAGE_HDR) % g->stride || in + g->stride > TLD_AGENT_PAGE)
		return NULL;
	return (struct tld_agent_rec *)(a->base + slot);
}

/* Name @r in @ref if it is live, and @id's if @id is not NULL; else NULL. */
static void *tld_agent_take(struct tld_agent_rec *r, __u32 slot, const __u64 *id,
			    struct tld_agent_ref *ref)
{
	struct tld_agent_ref got;

	got.gen = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
	if (!(got.gen & 1))
		return NULL;
	got.slot = slot;
	got.id = __atomic_load_n(&r->id, __ATOMIC_RELAXED);
	got.birth = __atomic_load_n(&r->birth, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&r->gen, __ATOMIC_RELAXED) != got.gen || (id && got.id != *id))
		return NULL;
	if (ref)
		*ref = got;
	return r->payload;
}

static void *tld_agent_find(struct tld_agent *a, int kind, __u64 id, struct tld_agent_ref *ref)
{
	const struct tld_agent_geo *g = &a->kind[kind];
	const __u32 *buckets = (const __u32 *)(a->base + g->index);
	__u32 b = tld_agent_bucket(id, g->buckets), v, i;
	struct tld_agent_rec *r;
	void *p;

	for (i = 0; i < TLD_AGENT_MAX_PROBE; i++) {
		v = __atomic_load_n(&buckets[(b + i) & (g->buckets - 1)], __ATOMIC_ACQUIRE);
		if (v == TLD_AGENT_EMPTY)
			break;
		r = v == TLD_AGENT_TOMB ? NULL : tld_agent_rec(a, kind, v);
		if (r && (p = tld_agent_take(r, v, &id, ref)))
			return p;
	}
	errno = ENOENT;
	return NULL;
}

TLD_API void *tld_agent_task(struct tld_agent *a, pid_t tid, struct tld_agent_ref *ref)
{
	return tld_agent_find(a, TLD_AGENT_TASK, (__u32)tid, ref);
}

TLD_API void *tld_agent_cgroup(struct tld_agent *a, __u64 id, struct tld_agent_ref *ref)
{
	return tld_agent_find(a, TLD_AGENT_CGROUP, id, ref);
}

TLD_API int tld_agent_cgroup_id(const char *path, __u64 *id)
{
	struct statfs fs;
	struct stat st;

	if (stat(path, &st) || statfs(path, &fs))
		return tld__err(-errno, "cannot find cgroup %s", path);
	if (!S_ISDIR(st.st_mode) || fs.f_type != CGROUP2_SUPER_MAGIC)
		return tld__err(-ENOTDIR, "%s is not a cgroup v2 directory", path);
	*id = st.st_ino;
	return 0;
}

TLD_API void *tld_agent_next(struct tld_agent *a, enum tld_agent_kind kind, unsigned long *pos,
			     struct tld_agent_ref *ref)
{
	const struct tld_agent_geo *g;
	const __u32 *buckets;
	struct tld_agent_rec *r;
	void *p;
	__u32 v;

	if ((unsigned int)kind >= TLD_AGENT_KINDS)
		return NULL;
	g = &a->kind[kind];
	buckets = (const __u32 *)(a->base + g->index);
	while (*pos < g->buckets) {
		v = __atomic_load_n(&buckets[(*pos)++], __ATOMIC_ACQUIRE);
		if (v == TLD_AGENT_EMPTY || v == TLD_AGENT_TOMB)
			continue;
		r = tld_agent_rec(a, kind, v);
		if (r && (p = tld_agent_take(r, v, NULL, ref)))
			return p;
	}
	return NULL;
}

static struct tld_agent_rec *tld_agent_ref_rec(struct tld_agent *a, const struct tld_agent_ref *ref)
{
	int kind;

	for (kind = 0; kind < TLD_AGENT_KINDS; kind++) {
		struct tld_agent_rec *r = tld_agent_rec(a, kind, ref->slot);

		if (r && __atomic_load_n(&r->kind, __ATOMIC_RELAXED) == (__u32)kind)
			return r;
	}
	return NULL;
}

TLD_API bool tld_agent_live(struct tld_agent *a, const struct tld_agent_ref *ref)
{
	struct tld_agent_rec *r = tld_agent_ref_rec(a, ref);
	struct tld_agent_ref now;

	return r && tld_agent_take(r, ref->slot, &ref->id, &now) && now.gen == ref->gen &&
	       now.birth == ref->birth;
}

TLD_API int tld_agent_read(struct tld_agent *a, const struct tld_agent_ref *ref, void *dst,
			   size_t size)
{
	struct tld_agent_rec *r = tld_agent_ref_rec(a, ref);

	if (!r)
		return -ESTALE;
	if (size > a->kind[r->kind & 1].size)
		return -EINVAL;
	if (!tld_agent_live(a, ref))
		return -ESTALE;
	memcpy(dst, r->payload, size);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&r->gen, __ATOMIC_RELAXED) == ref->gen ? 0 : -ESTALE;
}

#define TLD_AGENT_SEQ_RETRIES	16

TLD_API int tld_agent_read_seq(struct tld_agent *a, const struct tld_agent_ref *ref, size_t off,
			       void *dst, size_t size)
{
	struct tld_agent_rec *r = tld_agent_ref_rec(a, ref);
	const struct tld_seq *s;
	__u32 seq;
	int i;

	if (!r)
		return -ESTALE;
	if (size < sizeof(*s) || off % 8 || off > a->kind[r->kind & 1].size ||
	    size > a->kind[r->kind & 1].size - off)
		return -EINVAL;
	s = (const struct tld_seq *)(r->payload + off);
	for (i = 0; i < TLD_AGENT_SEQ_RETRIES; i++) {
		if (!tld_agent_live(a, ref))
			return -ESTALE;
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		memcpy(dst, s, size);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			return tld_agent_live(a, ref) ? 0 : -ESTALE;
	}
	return -EBUSY;
}

TLD_API const struct tld_agent_hdr *tld_agent_stats(struct tld_agent *a)
{
	return (const struct tld_agent_hdr *)(a->base + TLD_AGENT_HDR_OFF);
}
