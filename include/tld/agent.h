/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtld's agent API: a central agent maps the store that
 * `tldtool agent create` made and finds any task's or cgroup's record in
 * it, with no system call per lookup, read or write.
 *
 *	struct tld_agent *a;
 *	struct tld_agent_ref ref;
 *	struct my_task *t;
 *
 *	tld_agent_open(NULL, &a);
 *	t = tld_agent_task(a, tid, &ref);	// NULL: no such record
 *	if (t)
 *		t->weight = 200;		// BPF sees it at once
 *
 * A record lives while its object does. A payload pointer stays safe to
 * touch after the object is gone; tld_agent_live() says whether it still
 * names the same object. See docs/agent.md.
 */
#ifndef TLD_AGENT_H
#define TLD_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <tld/abi.h>
#include <tld/agent_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where tldtool pins the store unless told otherwise; $TLD_AGENT_PATH overrides. */
#define TLD_AGENT_DEFAULT_PATH	"/sys/fs/bpf/tld/agent"

struct tld_agent;

struct tld_agent_opts {
	size_t sz;		/* sizeof(struct tld_agent_opts), set by TLD_AGENT_OPTS() */
	/* The store's directory; NULL: $TLD_AGENT_PATH, then the default. */
	const char *path;
	size_t :0;
};

#define TLD_AGENT_OPTS(NAME, ...)					\
	struct tld_agent_opts NAME = {					\
		.sz = sizeof(struct tld_agent_opts),			\
		__VA_ARGS__						\
	}

/* Map the store. 0 and *@out, or -errno (said through tld_set_print()). */
int tld_agent_open(const struct tld_agent_opts *opts, struct tld_agent **out);
void tld_agent_close(struct tld_agent *a);

/*
 * Run one maintenance pass of the store's keeper (two reads of its pinned
 * iterators): objects without a record get one, free pages go back, pages
 * for a reserve of free slots come. Hooks that found no free slot (see
 * tld_agent_stats()'s waited) are made good here. 0 or -errno.
 */
int tld_agent_maintain(struct tld_agent *a);

/* A record, named for good: a slot, its generation and its object. */
struct tld_agent_ref {
	__u32 slot;
	__u32 gen;
	__u64 id;
	__u64 birth;
};

/*
 * The payload of thread @tid's record, or NULL (errno ENOENT). O(1)
 * expected. @ref (may be NULL) names the record for tld_agent_live().
 */
void *tld_agent_task(struct tld_agent *a, pid_t tid, struct tld_agent_ref *ref);

/* The payload of cgroup @id's record, or NULL (errno ENOENT). */
void *tld_agent_cgroup(struct tld_agent *a, __u64 id, struct tld_agent_ref *ref);

/* The id of the cgroup at @path (on cgroup v2, its inode number). 0 or -errno. */
int tld_agent_cgroup_id(const char *path, __u64 *id);

/*
 * The next live record of @kind after position *@pos (start at 0), or NULL
 * at the end. Records made or freed meanwhile may or may not be seen.
 */
void *tld_agent_next(struct tld_agent *a, enum tld_agent_kind kind, unsigned long *pos,
		     struct tld_agent_ref *ref);

/* Whether @ref still names a live record of the same object. */
bool tld_agent_live(struct tld_agent *a, const struct tld_agent_ref *ref);

/*
 * Copy @size bytes of @ref's payload to @dst, consistent with the record
 * being live throughout. 0, -ESTALE if it is not @ref's any more, -EINVAL
 * if @size is larger than the store's payload.
 */
int tld_agent_read(struct tld_agent *a, const struct tld_agent_ref *ref, void *dst,
		   size_t size);

/*
 * Copy @size bytes at payload offset @off of @ref's record to @dst: a
 * section that starts with a struct tld_seq and that BPF changes between
 * tld_agent_update_begin() and end() (tld/agent.bpf.h). Consistent: all
 * from one update, and the record @ref's throughout. 0, -EBUSY if BPF
 * stayed busy, -ESTALE, or -EINVAL if the section is outside the payload.
 * The agent's own writes to a section BPF reads use tld_update_begin() and
 * tld_update_end() from tld/tld.h on its struct tld_seq.
 */
int tld_agent_read_seq(struct tld_agent *a, const struct tld_agent_ref *ref, size_t off,
		       void *dst, size_t size);

/* The store's header: its sizes and counters, as BPF keeps them. */
const struct tld_agent_hdr *tld_agent_stats(struct tld_agent *a);

#ifdef __cplusplus
}
#endif

#endif /* TLD_AGENT_H */
