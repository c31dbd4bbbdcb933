// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The compact layout (TLD_COMPACT=AREA): threads' data areas share pages.
 * NTHREADS threads register and publish values BPF reads back (the values
 * themselves are test/basic's, which make test runs under TLD_COMPACT too);
 * here:
 * - they take NTHREADS / per-page pages, each area AREA bytes after the
 *   last, and no two threads share an area;
 * - a key that does not fit an area fails with -ENOSPC and says so, while
 *   one that fits, created after the threads registered, works for them;
 * - a thread that exits gives its area to the next thread, zeroed, and
 *   the page stays while the main thread's area is in it;
 * - a fork child's new thread gets an area of its own;
 * - the area of an entry whose delete failed goes to no other thread;
 * - tld_init() cannot change the layout once the store is made, nor take an
 *   area over 2040 bytes, and a bad $TLD_COMPACT makes no key;
 * - tld_init() cannot change the layout once the store is made.
 *
 * Checked to fail: with every thread given the page's first area (the
 * slot's area index dropped in tld__store_area_get()), the areas overlap
 * and BPF reads one value for all of a page's threads; with every area
 * given back punching its page, the main thread's value is 0; without the
 * fork child's slot marked, its new thread gets the forking thread's area.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define AREA		256
#define PER_PAGE	((TLD_PAGE_SIZE - TLD_DATA_HDR) / AREA)
#define NTHREADS	(2 * PER_PAGE)

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct reader_bpf *reader;
static pthread_barrier_t registered, done;
static __u64 *values[NTHREADS];
static pid_t tids[NTHREADS];

static void *worker(void *arg)
{
	long i = (long)arg;
	__u64 *v = tld_get_data(static_key);

	tids[i] = th_gettid();
	values[i] = v;
	if (v)
		*v = 1000 + i;
	pthread_barrier_wait(&registered);
	pthread_barrier_wait(&done);
	return NULL;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* The areas, the main thread's first, are AREA bytes apart, in as few pages as they fill. */
static void check_areas(const __u64 *mine)
{
	uintptr_t p[NTHREADS + 1];
	int i, pages = 1;

	for (i = 0; i < NTHREADS; i++)
		p[i] = (uintptr_t)values[i];
	p[NTHREADS] = (uintptr_t)mine;
	qsort(p, NTHREADS + 1, sizeof(p[0]), cmp_ptr);
	TH_CHECK(p[0] == (uintptr_t)mine, "the main thread's area is not the first");
	for (i = 1; i <= NTHREADS; i++) {
		if (p[i] / TLD_PAGE_SIZE != p[i - 1] / TLD_PAGE_SIZE) {
			pages++;
			continue;
		}
		TH_CHECK(p[i] - p[i - 1] == AREA, "areas %#lx and %#lx are %lu bytes apart, want %d",
			 (unsigned long)p[i - 1], (unsigned long)p[i],
			 (unsigned long)(p[i] - p[i - 1]), AREA);
	}
	TH_CHECK(pages == (NTHREADS + PER_PAGE) / PER_PAGE, "%d threads in %d pages, want %d",
		 NTHREADS + 1, pages, (NTHREADS + PER_PAGE) / PER_PAGE);
}

/* Every thread's own value, as BPF reads it. */
static void check_reads(void)
{
	struct th_result r;
	int i;

	for (i = 0; i < NTHREADS; i++) {
		th_mark(tids[i]);
		if (!TH_CHECK(th_result(reader, tids[i], &r), "BPF saw nothing for thread %d", tids[i]))
			continue;
		TH_CHECK(!r.init_err && r.head[TH_STATIC] == 1000u + i,
			 "thread %d: init %d, read %llu, want %d", tids[i], r.init_err,
			 r.head[TH_STATIC], 1000 + i);
	}
}

static void check_keys(void)
{
	tld_key_t big, fits;
	__u64 *v;

	th_capture();
	big = tld_create_key("test.big", AREA);
	TH_CHECK(tld_key_err(big) == -ENOSPC && th_captured("compact"),
		 "a key of %d bytes past the first: %d", AREA, tld_key_err(big));
	fits = tld_create_key("test.dyn", sizeof(__u64));
	v = tld_get_data(fits);
	TH_CHECK(v && (char *)v - (char *)tld_get_data(static_key) == 8,
		 "a key that fits, made after the threads: %p", (void *)v);
	fits = tld_create_key("test.fill", AREA - 16);
	TH_CHECK(!tld_key_err(fits), "a key that ends the area: %d", tld_key_err(fits));
	big = tld_create_key("test.more", 1);
	TH_CHECK(tld_key_err(big) == -ENOSPC, "a byte past the full area: %d", tld_key_err(big));
}

static void *child_thread(void *arg)
{
	__u64 *v = tld_get_data(static_key);

	*(__u64 **)arg = v;
	if (v)
		*v = 7;
	return NULL;
}

/* A fork child's new thread gets an area of its own, not the forking thread's. */
static void check_fork(const __u64 *mine)
{
	__u64 *other = NULL;
	pthread_t t;
	int status;
	pid_t pid = fork();

	if (!pid) {
		pthread_create(&t, NULL, child_thread, &other);
		pthread_join(t, NULL);
		_exit(!other ? 2 : other == mine ? 3 : *mine != 1 ? 4 : 0);
	}
	waitpid(pid, &status, 0);
	TH_CHECK(WIFEXITED(status) && !WEXITSTATUS(status),
		 "fork child: status %#x (2: no data, 3: the forking thread's area, 4: its value changed)",
		 status);
}

static void *reuser(void *arg)
{
	__u64 *v = tld_get_data(static_key);

	*(__u64 **)arg = v;
	TH_CHECK(v && *v == 0, "the reused area holds %llu", v ? *v : 0);
	return NULL;
}

/* The lowest area the workers had goes to the next thread, zeroed. */
static void check_reuse(const __u64 *mine)
{
	__u64 *got = NULL;
	pthread_t t;

	pthread_create(&t, NULL, reuser, &got);
	pthread_join(t, NULL);
	TH_CHECK(got == mine + AREA / sizeof(*mine), "the new thread's area %p, want %p",
		 (void *)got, (void *)(mine + AREA / sizeof(*mine)));
}

static void check_junk(const char *self)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "TLD_COMPACT=12abc %s junk", self);
	TH_CHECK(th_run(cmd, NULL, 0) == 0, "TLD_COMPACT=12abc: the first key was made");
}

static sem_t fini_up, fini_go;
static pid_t fini_tid;
static __u64 *fini_value;

/* Register, then tld_thread_fini() with no fd left for the pidfd its delete needs. */
static void *fini_no_fd(void *arg)
{
	struct rlimit rl, low;
	int fds[64], n = 0;

	(void)arg;
	fini_value = tld_get_data(static_key);
	if (fini_value)
		*fini_value = 4242;
	fini_tid = th_gettid();
	sem_post(&fini_up);
	sem_wait(&fini_go);
	getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = 64;
	setrlimit(RLIMIT_NOFILE, &low);
	while (n < 64 && (fds[n] = dup(0)) >= 0)
		n++;
	tld_thread_fini();
	while (n--)
		close(fds[n]);
	setrlimit(RLIMIT_NOFILE, &rl);
	sem_post(&fini_up);
	sem_wait(&fini_go);
	return NULL;
}

/*
 * An entry whose delete failed may remain, and readers may remember it:
 * its area must not go to the next thread, whose values they would read
 * as the first thread's.
 */
static void check_failed_delete(void)
{
	__u64 *next = NULL;
	struct th_result r;
	pthread_t t, u;

	sem_init(&fini_up, 0, 0);
	sem_init(&fini_go, 0, 0);
	pthread_create(&t, NULL, fini_no_fd, NULL);
	sem_wait(&fini_up);
	th_mark(fini_tid);
	th_capture();
	sem_post(&fini_go);
	sem_wait(&fini_up);
	TH_CHECK(th_captured("pidfd_open"), "the delete did not fail for want of an fd");
	pthread_create(&u, NULL, child_thread, &next);
	pthread_join(u, NULL);
	TH_CHECK(next && next != fini_value, "the next thread got the area of an entry that may remain");
	th_mark(fini_tid);
	TH_CHECK(th_result(reader, fini_tid, &r) && (r.init_err || r.head[TH_STATIC] != 7),
		 "the next thread's value read as the first thread's");
	sem_post(&fini_go);
	pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
	TLD_OPTS(other, .compact = AREA / 2);
	TLD_OPTS(too_big, .compact = 2041);
	pthread_t threads[NTHREADS];
	struct th_map map;
	__u64 *mine;
	long i;

	/* exec'd with a bad $TLD_COMPACT: no store, so no key. */
	if (argc > 1 && !strcmp(argv[1], "junk"))
		return tld_key_err(static_key) == -EINVAL ? 0 : 1;
	if (!getenv("TLD_COMPACT")) {
		setenv("TLD_COMPACT", "256", 1);
		execv("/proc/self/exe", argv);
		th_fatal("exec: %m");
	}
	if (atoi(getenv("TLD_COMPACT")) != AREA)
		th_skip("TLD_COMPACT=%s: this test sets its own", getenv("TLD_COMPACT"));
	th_map_create(&map, NULL);
	reader = th_reader_load();
	TH_CHECK(tld_init(&other) == -EBUSY,
		 "tld_init() changed the layout after the store was made");
	TH_CHECK(tld_init(&too_big) == -EINVAL, "a compact area of 2041 bytes was taken");
	check_junk(argv[0]);
	mine = tld_get_data(static_key);
	if (!mine)
		th_fatal("the main thread has no data");
	*mine = 1;
	pthread_barrier_init(&registered, NULL, NTHREADS + 1);
	pthread_barrier_init(&done, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, (void *)i);
	pthread_barrier_wait(&registered);
	for (i = 0; i < NTHREADS; i++)
		if (!values[i])
			th_fatal("thread %ld has no data", i);
	check_areas(mine);
	check_reads();
	check_keys();
	check_fork(mine);
	pthread_barrier_wait(&done);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);
	/* The workers' areas went back, and the page they share with this thread stayed. */
	TH_CHECK(*mine == 1, "the main thread's value is %llu after its neighbours exited", *mine);
	check_reuse(mine);
	check_failed_delete();
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
