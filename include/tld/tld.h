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
	size_t :0;
};

#define TLD_OPTS(NAME, ...)						\
	struct tld_opts NAME = {					\
		.sz = sizeof(struct tld_opts),				\
		__VA_ARGS__						\
	}

/*
 * Open and check the map before any thread registers. Optional: the first
 * registration opens the default map. -EALREADY once a map is open.
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
 * object defining it is loaded). Check it with tld_key_err().
 */
#define TLD_DEFINE_KEY(key, name, size)					\
	tld_key_t key;							\
	__attribute__((constructor(101)))				\
	static void tld__ctor_##key(void)				\
	{								\
		key = tld_create_key(name, size);			\
	}

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

/* Register the calling thread now rather than on its first tld_get_data(). */
int tld_thread_init(void);

/* Internal: the calling thread's data area minus one; NULL if unregistered. */
extern __thread char *tld__thread_base __attribute__((tls_model("initial-exec")));
void *tld__get_data_slow(tld_key_t key);

/*
 * The calling thread's value for @key, registering the thread on first use.
 * The pointer is 8-byte aligned, stays valid until the thread exits (or
 * tld_fini()), and stores through it are what BPF reads. NULL if @key is
 * invalid or the thread cannot register (the reason is printed once).
 */
static inline void *tld_get_data(tld_key_t key)
{
	char *base = tld__thread_base;

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
 * Re-open the map path and register every registered thread of this
 * process in it: for use after the map was re-created. Returns the number
 * of threads registered, or -errno.
 */
int tld_refresh(void);

/*
 * Unregister every thread and release libtld's memory. Pointers from
 * tld_get_data() must not be used afterwards; later calls fail with
 * -ESHUTDOWN. Also run when libtld is unloaded.
 */
void tld_fini(void);

typedef int (*tld_print_fn_t)(const char *fmt, va_list args);

/* Route libtld's messages to @fn (NULL: silence). Returns the old one. */
tld_print_fn_t tld_set_print(tld_print_fn_t fn);

#ifdef __cplusplus
}
#endif

#endif /* TLD_TLD_H */
