/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtld: share per-thread data with BPF programs through plain stores.
 *
 *	TLD_DEFINE_KEY(prio_key, "prio", sizeof(__u64));
 *
 *	__u64 *prio = tld_get_data(prio_key);	// registers the thread once
 *	if (prio)
 *		*prio = 7;			// BPF sees it, no syscall
 *
 * Every call that can fail returns a negative errno and reports what was
 * wrong through the print callback (stderr by default, see tld_set_print()).
 * See tld(7) and docs/ for the model, the ABI and the lifecycle.
 */
#ifndef TLD_TLD_H
#define TLD_TLD_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tld/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TLD_VERSION_MAJOR	0
#define TLD_VERSION_MINOR	1

/* Where tldtool pins the map unless told otherwise; $TLD_MAP_PATH overrides. */
#define TLD_DEFAULT_MAP_PATH	"/sys/fs/bpf/tld/tld_data_map"

/* Longest key name, without its terminating NUL. */
#define TLD_KEY_NAME_MAX	(TLD_NAME_LEN - 1)
/* Largest key, and the most all keys of a process may use together. */
#define TLD_KEY_SIZE_MAX	TLD_DATA_MAX

/*
 * A key: the data offset plus one, so that a zeroed key (one whose
 * constructor has not run yet) is invalid; negative values are -errno.
 * Treat it as opaque.
 */
typedef struct {
	int32_t raw;
} tld_key_t;

struct tld_opts {
	size_t sz;		/* sizeof(struct tld_opts), set by TLD_OPTS() */
	/* Pinned map to register threads in; NULL: $TLD_MAP_PATH, then the default. */
	const char *map_path;
	/*
	 * The compact layout: this many data bytes per thread (rounded up to
	 * 8, at most 2040), several threads to a page; keys past it fail.
	 * 0: $TLD_COMPACT, else a page per thread. Fixed when the first key
	 * or thread is made: see tld_init(3).
	 */
	size_t compact;
	size_t :0;
};

#define TLD_OPTS(NAME, ...)						\
	struct tld_opts NAME = {					\
		.sz = sizeof(struct tld_opts),				\
		__VA_ARGS__						\
	}

/*
 * Choose, open and check the map before any thread registers. Optional:
 * the first registration opens the default map. Once a map is open, the
 * same map again returns 0 and another is -EALREADY. If the map cannot be
 * opened the error is returned, and until a map opens threads keep trying
 * the path chosen last (see tld_get_data()).
 */
int tld_init(const struct tld_opts *opts);

/*
 * Create the key @name of @size bytes, or return the existing one if a key
 * of that name and size exists. Lock-free; the key is visible to BPF when
 * this returns. -EEXIST: same name, other size.
 */
tld_key_t tld_create_key(const char *name, size_t size);

/*
 * Define @key at file scope, created before main() (or when the shared
 * object defining it is loaded), followed by a ';' like any definition.
 * Check it with tld_key_err(). "static TLD_DEFINE_KEY(...);" keeps it
 * private to its file; TLD_DECLARE_KEY(key); names it in a header.
 */
#define TLD_DEFINE_KEY(key, name, size)					\
	tld_key_t key;							\
	__attribute__((constructor(101)))				\
	static void tld__ctor_##key(void)				\
	{								\
		key = tld_create_key(name, size);			\
	}								\
	extern int tld__define_key_##key

#define TLD_DECLARE_KEY(key)	extern tld_key_t key

static inline bool tld_key_is_err(tld_key_t key)
{
	return key.raw <= 0;
}

/* 0 for a valid key, else the -errno its creation failed with. */
static inline int tld_key_err(tld_key_t key)
{
	if (key.raw > 0)
		return 0;
	return key.raw < 0 ? key.raw : -EINVAL;
}

/*
 * Register the calling thread now rather than on its first tld_get_data(),
 * or try again now after a failure. 0 once its entry is attached.
 */
int tld_thread_init(void);

/*
 * Whether BPF sees the calling thread's data now: 0 if its entry is in the
 * map pinned at the map path, else why not: -ENODATA (it never asked for
 * data), its registration error (-ENOENT: no map yet, ...), -ENOLINK (its
 * entry was erased or swept, or the map was made anew), -ESHUTDOWN. An
 * erased entry is attached again at the thread's next tld_get_data(); a new
 * map needs tld_refresh(). Makes system calls: not for the hot path.
 */
int tld_thread_status(void);

/*
 * Unregister the calling thread before it exits: its entry and its page
 * go, and its pointers are invalid. A later tld_get_data() registers it
 * again, with a new page. Returns 0.
 */
int tld_thread_fini(void);

/*
 * Internal: the calling thread's data area minus one; NULL if unregistered.
 * The slow path throws nothing: said to C++, so that a noexcept caller
 * needs no landing pad around the inlined fast path.
 */
extern __thread char *tld__thread_base __attribute__((tls_model("initial-exec")));
#ifdef __cplusplus
void *tld__get_data_slow(tld_key_t key) noexcept;
#else
void *tld__get_data_slow(tld_key_t key);
#endif

/*
 * The calling thread's value for @key, registering the thread on first use.
 * The pointer is 8-byte aligned, stays valid until the thread exits (or
 * calls tld_thread_fini(), or tld_fini() runs), and stores through it are
 * what BPF reads. NULL if @key is invalid or the thread is not registered:
 * the reason is printed once, and registration is tried again at most every
 * 100 ms by later calls. Once it works, the pointer is the one the thread
 * will always get.
 */
static inline void *tld_get_data(tld_key_t key)
{
	/* Other threads clear it at tld_fini(): an atomic load, a plain mov. */
	char *base = __atomic_load_n(&tld__thread_base, __ATOMIC_RELAXED);

	if (__builtin_expect(base != NULL && key.raw > 0, 1))
		return base + key.raw;
	return tld__get_data_slow(key);
}

/*
 * Consistent updates of a value whose fields must agree: the value starts
 * with a struct tld_seq, and its thread wraps every change in
 *
 *	tld_update_begin(&v->seq);
 *	v->a = ...; v->b = ...;
 *	tld_update_end(&v->seq);
 *
 * BPF reads it with tld_read_seq(). Only the value's own thread may write
 * it. Single-word values need none of this.
 */
static inline void tld_update_begin(struct tld_seq *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	/* The odd count is visible before any store to the value. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void tld_update_end(struct tld_seq *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

/*
 * Re-open the map path and attach every thread of this process that asked
 * for data, registered or not, with the pages it has: for use after the
 * map was made anew, or to recover erased entries at once. Returns the
 * number of threads attached, or -errno.
 */
int tld_refresh(void);

/*
 * Unregister every thread and release libtld's memory; every thread's
 * tld_get_data() returns NULL from then on, and other calls fail with
 * -ESHUTDOWN, also in threads that are using libtld meanwhile. Stores
 * through old pointers land in emptied pages nobody reads. Also run when
 * libtld is unloaded, and at exit.
 */
void tld_fini(void);

typedef int (*tld_print_fn_t)(const char *fmt, va_list args);

/* Route libtld's messages to @fn (NULL: silence). Returns the old one. */
tld_print_fn_t tld_set_print(tld_print_fn_t fn);

#ifdef __cplusplus
}
#endif

#endif /* TLD_TLD_H */
