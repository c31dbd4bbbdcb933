// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A BPF store into an exited thread's entry never reaches the thread that
 * gets its page. An exiting thread gives its page back without deleting
 * its entry (the kernel frees it with the task): libtld punches the page
 * out of its store, so the entry pins the old page and the next thread
 * faults in a new one at the same address.
 *
 * Thread A stores 1 and exits; a destructor of the test's, which runs
 * after libtld's, holds A there. Threads then register one by one, each
 * keeping its page (libtld hands out pages populated ahead first), until
 * one, B, gets A's page (same address); B stores 7. Only then does A, still held, have BPF
 * store 99 through its entry, which must still be there. B must read 7,
 * and BPF must read 7 from B and 99 from A (held until then). Once both are gone the map
 * holds as many entries as before (the kernel freed A's).
 *
 * Checked to fail (make mutate): with the page not punched when given
 * back, B reads 99.
 */
#include <pthread.h>
#include <unistd.h>

#include "harness.h"
#include "reader.skel.h"

#define CANDIDATES	64

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct reader_bpf *reader;
static pthread_key_t hold_key;
static int a_released[2], b_stored[2], a_stored[2], b_read[2], tried[2], done[2];
static __u64 *a_page, *b_page;
static pid_t a_tid;

static void wait_on(int *pipefd)
{
	char c;

	if (read(pipefd[0], &c, 1) != 1)
		th_fatal("read: %m");
}

static void post(int *pipefd)
{
	if (write(pipefd[1], "x", 1) != 1)
		th_fatal("write: %m");
}

/* A's exit, after libtld's destructor: its entry stays, its page went back. */
static void hold(void *arg)
{
	(void)arg;
	if (tld_get_data(static_key))
		th_fatal("the test's destructor ran before libtld's: nothing to test");
	post(a_released);
	wait_on(b_stored);
	th_store(99);
	post(a_stored);
	wait_on(b_read);
}

static void *thread_a(void *arg)
{
	a_page = tld_get_data(static_key);
	if (!a_page)
		th_fatal("thread A has no data");
	*a_page = 1;
	a_tid = th_gettid();
	/* Created after libtld's key, so its destructor runs after libtld's. */
	if (pthread_key_create(&hold_key, hold) || pthread_setspecific(hold_key, arg))
		th_fatal("pthread key: %m");
	return NULL;
}

static void *thread_b(void *arg)
{
	struct th_result r = { 0 }, ra = { 0 };
	__u64 *p = tld_get_data(static_key);
	char c;

	if (!p)
		th_fatal("a thread has no data");
	if (p != a_page) {
		/* Not A's page: keep it, so that the next thread gets another. */
		post(tried);
		if (read(done[0], &c, 1) < 0)
			th_fatal("read: %m");
		return arg;
	}
	b_page = p;
	post(tried);
	*b_page = 7;
	post(b_stored);
	wait_on(a_stored);
	TH_CHECK(*b_page == 7, "thread B reads %llu: A's late BPF store reached it", *b_page);
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r) && r.head[TH_STATIC] == 7,
		 "BPF read %llu from thread B", r.head[TH_STATIC]);
	th_mark(a_tid);
	TH_CHECK(th_result(reader, a_tid, &ra) && ra.head[TH_STATIC] == 99,
		 "BPF read %llu from A's entry, not its late store", ra.head[TH_STATIC]);
	post(b_read);
	return arg;
}

int main(void)
{
	pthread_t a, b[CANDIDATES];
	struct th_map map;
	int base, i, n;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	if (pipe(a_released) || pipe(b_stored) || pipe(a_stored) || pipe(b_read) ||
	    pipe(tried) || pipe(done))
		th_fatal("pipe: %m");
	if (!tld_get_data(static_key))
		th_fatal("the main thread has no data");
	base = th_map_entries(&map);
	pthread_create(&a, NULL, thread_a, reader);
	wait_on(a_released);
	for (n = 0; n < CANDIDATES && !b_page; n++) {
		pthread_create(&b[n], NULL, thread_b, NULL);
		wait_on(tried);
	}
	if (!b_page)
		th_fatal("none of %d threads got A's page: nothing was tested", CANDIDATES);
	pthread_join(b[n - 1], NULL);
	pthread_join(a, NULL);
	close(done[1]);
	for (i = 0; i < n - 1; i++)
		pthread_join(b[i], NULL);
	TH_CHECK(reader->bss->stored == 1, "%llu BPF stores found A's entry, not 1",
		 reader->bss->stored);
	th_map_entries_wait(&map, base);
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
