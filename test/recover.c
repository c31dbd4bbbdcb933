// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Registration that recovers, with the pointer a thread holds never
 * changing:
 * - the application starts before the map exists (the usual order at
 *   boot): its threads get NULL, the reason is printed once, and once the
 *   map is made their next tld_get_data() registers them;
 * - an entry is erased: tld_thread_status() says so, and the thread's next
 *   tld_get_data() attaches it again; or tld_refresh() does it for a
 *   thread that never calls libtld again;
 * - the map is made anew (a scheduler reload): status names it, and
 *   tld_refresh() moves every thread to the new map;
 * - tld_thread_fini() unregisters a thread early, and it may come back.
 *
 * Checked to fail (make mutate): with failed registrations never retried,
 * the worker stays unregistered after the map appears.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct reader_bpf *reader;
static struct th_map map;

/* BPF reads @want for @tid, or (want 0) finds no data. */
static void expect_read(pid_t tid, __u64 want, const char *when)
{
	struct th_result r = { 0 };
	bool got;

	th_mark(tid);
	got = th_result(reader, tid, &r);
	if (want)
		TH_CHECK(got && r.init_err == 0 && r.head[TH_STATIC] == want,
			 "%s: BPF read %llu (err %d), want %llu", when, r.head[TH_STATIC],
			 r.init_err, want);
	else
		TH_CHECK(got && r.init_err == -ENODATA, "%s: BPF still reads (err %d)", when,
			 r.init_err);
}

/* Remove @tid's entry as any process that can open the map could. */
static void erase(pid_t tid)
{
	int fd = bpf_obj_get(map.path), pidfd = syscall(SYS_pidfd_open, tid, O_EXCL);

	if (fd < 0 || pidfd < 0 || bpf_map_delete_elem(fd, &pidfd))
		th_fatal("erase %d: %m", tid);
	close(pidfd);
	close(fd);
}

static double now(void)
{
	return th_now_ns() / 1e9;
}

/* A worker's life, step by step, driven by main(). */
static pthread_barrier_t step;
static __u64 *worker_p;
static pid_t worker_tid;

static void *worker(void *arg)
{
	double deadline;
	int i;

	(void)arg;
	worker_tid = th_gettid();
	for (i = 0; i < 1000; i++)
		TH_CHECK(tld_get_data(static_key) == NULL, "registered without a map");
	TH_CHECK(tld_thread_status() == -ENOENT, "status without a map: %d",
		 tld_thread_status());
	pthread_barrier_wait(&step);		/* 1: main makes the map */
	pthread_barrier_wait(&step);
	/* Liveness bound, not a timing threshold: retries come every 100 ms. */
	deadline = now() + 10;
	while (!(worker_p = tld_get_data(static_key)) && now() < deadline)
		usleep(1000);
	TH_CHECK(worker_p, "not registered once the map exists");
	if (worker_p)
		*worker_p = 11;
	TH_CHECK(tld_thread_status() == 0, "status once registered");
	pthread_barrier_wait(&step);		/* 2: main checks, erases */
	pthread_barrier_wait(&step);
	TH_CHECK(tld_thread_status() == -ENOLINK && th_captured("was removed"),
		 "status after the erase");
	TH_CHECK(tld_get_data(static_key) == worker_p, "the pointer changed");
	*worker_p = 12;
	pthread_barrier_wait(&step);		/* 3: main checks, erases, refreshes */
	pthread_barrier_wait(&step);
	/* From here on this thread never calls libtld; its stores still count. */
	*worker_p = 13;
	pthread_barrier_wait(&step);		/* 4: main checks, makes the map anew */
	pthread_barrier_wait(&step);
	*worker_p = 14;
	pthread_barrier_wait(&step);		/* 5: main checks */
	pthread_barrier_wait(&step);
	return NULL;
}

static void early_fini(void)
{
	int before = th_map_entries(&map);
	__u64 *p;

	TH_CHECK(tld_thread_fini() == 0, "tld_thread_fini");
	TH_CHECK(th_map_entries(&map) == before - 1, "%d entries after tld_thread_fini(), was %d",
		 th_map_entries(&map), before);
	TH_CHECK(tld_thread_status() == -ENODATA, "status after tld_thread_fini()");
	expect_read(th_gettid(), 0, "after tld_thread_fini()");
	p = tld_get_data(static_key);
	TH_CHECK(p, "no data after tld_thread_fini()");
	if (p)
		*p = 21;
	expect_read(th_gettid(), 21, "registered again");
}

int main(void)
{
	pthread_t t;

	th_capture();
	th_map_name(&map);
	pthread_barrier_init(&step, NULL, 2);
	pthread_create(&t, NULL, worker, NULL);
	pthread_barrier_wait(&step);
	TH_CHECK(th_captured_count("no tld map at") == 1, "not said exactly once");
	th_map_create(&map, NULL);
	reader = th_reader_load();
	pthread_barrier_wait(&step);

	pthread_barrier_wait(&step);
	expect_read(worker_tid, 11, "registered late");
	erase(worker_tid);
	expect_read(worker_tid, 0, "erased");
	pthread_barrier_wait(&step);

	pthread_barrier_wait(&step);
	expect_read(worker_tid, 12, "attached again by tld_get_data()");
	erase(worker_tid);
	TH_CHECK(tld_refresh() == 1, "tld_refresh() attached not one thread");
	pthread_barrier_wait(&step);

	pthread_barrier_wait(&step);
	expect_read(worker_tid, 13, "attached again by tld_refresh()");
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_map_create(&map, NULL);
	reader = th_reader_load();
	expect_read(worker_tid, 0, "in the new map, before tld_refresh()");
	pthread_barrier_wait(&step);

	pthread_barrier_wait(&step);
	TH_CHECK(tld_get_data(static_key) != NULL, "main thread registers");
	TH_CHECK(tld_thread_status() == -ENOLINK && th_captured("no longer pinned"),
		 "status names the new map");
	TH_CHECK(tld_refresh() == 2, "tld_refresh() did not attach both threads");
	TH_CHECK(tld_thread_status() == 0, "status after tld_refresh()");
	expect_read(worker_tid, 14, "moved to the new map");
	early_fini();
	pthread_barrier_wait(&step);
	pthread_join(t, NULL);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
