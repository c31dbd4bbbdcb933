// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads register; then a library is dlopen'ed whose keys did not exist
 * when they did, one of them 1 KiB. Each thread writes the new keys (the
 * whole 1 KiB, last word included) and BPF reads them, with the thread's
 * older key intact. Unloading and reloading the library gives it the same
 * keys again.
 *
 * Checked to fail (make mutate): without the name lookup in
 * tld_key_claim(), the reloaded library gets new keys.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define NTHREADS	4

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct reader_bpf *reader;
static pthread_barrier_t registered, loaded, done;
static int (*dl_publish)(__u64 v);

static void check(pid_t tid, __u64 v)
{
	struct th_result r;

	if (!TH_CHECK(th_result(reader, tid, &r), "BPF saw nothing for %d", tid))
		return;
	TH_CHECK(r.head[TH_STATIC] == (__u64)tid, "%d: old key %llu", tid, r.head[TH_STATIC]);
	TH_CHECK(r.head[TH_DL_KEY] == v, "%d: dl.key %llu, want %llu", tid, r.head[TH_DL_KEY], v);
	TH_CHECK(r.head[TH_DL_BIG] == v + 1 && r.tail[TH_DL_BIG] == v + 2,
		 "%d: dl.big %llu..%llu", tid, r.head[TH_DL_BIG], r.tail[TH_DL_BIG]);
	TH_CHECK(r.off[TH_DL_BIG] + 1024 <= TLD_PAGE_SIZE, "dl.big ends past the page");
}

static void *worker(void *arg)
{
	pid_t tid = th_gettid();

	(void)arg;
	*(__u64 *)tld_get_data(static_key) = tid;
	pthread_barrier_wait(&registered);
	pthread_barrier_wait(&loaded);
	TH_CHECK(dl_publish(tid * 10ull) == 0, "dl_publish in %d", tid);
	th_mark(0);
	check(tid, tid * 10ull);
	pthread_barrier_wait(&done);
	return NULL;
}

static void *load(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);

	if (!h)
		th_fatal("dlopen: %s", dlerror());
	dl_publish = (int (*)(__u64))dlsym(h, "dl_publish");
	return h;
}

int main(void)
{
	pthread_t threads[NTHREADS];
	char lib[PATH_MAX], exe[PATH_MAX];
	int (*raw)(void);
	struct th_map map;
	int i, first;
	void *h;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	snprintf(exe, sizeof(exe), "%s", th_exe());
	snprintf(lib, sizeof(lib), "%s/libdlkeys.so", dirname(exe));
	pthread_barrier_init(&registered, NULL, NTHREADS + 1);
	pthread_barrier_init(&loaded, NULL, NTHREADS + 1);
	pthread_barrier_init(&done, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	pthread_barrier_wait(&registered);
	h = load(lib);
	pthread_barrier_wait(&loaded);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);

	raw = (int (*)(void))dlsym(h, "dl_key_raw");
	first = raw();
	dlclose(h);
	h = load(lib);
	raw = (int (*)(void))dlsym(h, "dl_key_raw");
	TH_CHECK(raw() == first, "reloaded library: key %d, was %d", raw(), first);
	*(__u64 *)tld_get_data(static_key) = th_gettid();
	TH_CHECK(dl_publish(99) == 0, "dl_publish after reload");
	th_mark(0);
	check(th_gettid(), 99);
	dlclose(h);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
