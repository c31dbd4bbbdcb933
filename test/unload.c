// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtld itself, dlopen'ed and dlclose'd while its threads run. This
 * program does not link libtld. Four threads register and keep storing
 * through their pointers; dlclose() must remove every map entry, unmap the
 * library, and leave those threads running, and later exiting, without a
 * crash (their exit destructor would jump into unmapped code). A second
 * dlopen() starts over.
 *
 * Checked to fail (make mutate): without pthread_key_delete() in
 * tld_unload(), the threads crash when they exit.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NTHREADS	4

struct libtld {
	void *handle;
	tld_key_t (*create_key)(const char *name, size_t size);
	void *(*get_data)(tld_key_t key);
};

static struct reader_bpf *reader;
static pthread_barrier_t registered;
static volatile bool stop;
static struct libtld lib;

static void libtld_open(struct libtld *l)
{
	char exe[PATH_MAX], path[PATH_MAX];

	snprintf(exe, sizeof(exe), "%s", th_exe());
	snprintf(path, sizeof(path), "%s/../libtld.so.0", dirname(exe));
	l->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!l->handle)
		th_fatal("dlopen %s: %s", path, dlerror());
	l->create_key = (tld_key_t (*)(const char *, size_t))dlsym(l->handle, "tld_create_key");
	l->get_data = (void *(*)(tld_key_t))dlsym(l->handle, "tld__get_data_slow");
}

static bool libtld_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, "libtld.so") != NULL;
	if (f)
		fclose(f);
	return found;
}

static void *worker(void *arg)
{
	tld_key_t key = *(tld_key_t *)arg;
	__u64 *p = lib.get_data(key);

	if (!TH_CHECK(p, "no data"))
		return NULL;
	*p = th_gettid();
	th_mark(0);
	pthread_barrier_wait(&registered);
	/* Across the dlclose: stores land in a page nobody reads any more. */
	while (!stop)
		*p += 1;
	return NULL;
}

static void check_value(pid_t tid, __u64 want)
{
	struct th_result r = { 0 };

	TH_CHECK(th_result(reader, tid, &r) && r.init_err == 0 && r.head[TH_STATIC] == want,
		 "thread %d: BPF read %llu", tid, r.head[TH_STATIC]);
}

int main(void)
{
	pthread_t threads[NTHREADS];
	struct th_map map;
	tld_key_t key;
	__u64 *p;
	int i;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	TH_CHECK(!libtld_mapped(), "libtld is loaded before dlopen");
	libtld_open(&lib);
	key = lib.create_key("test.static", sizeof(__u64));
	pthread_barrier_init(&registered, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, &key);
	pthread_barrier_wait(&registered);
	TH_CHECK(th_map_entries(&map) == NTHREADS, "%d entries", th_map_entries(&map));

	dlclose(lib.handle);
	TH_CHECK(th_map_entries(&map) == 0, "%d entries after dlclose", th_map_entries(&map));
	TH_CHECK(!libtld_mapped(), "libtld is still mapped after dlclose");
	usleep(100000);
	stop = true;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);

	/* A fresh instance: keys and registration start over. */
	libtld_open(&lib);
	key = lib.create_key("test.static", sizeof(__u64));
	p = lib.get_data(key);
	TH_CHECK(p != NULL, "no data after the second dlopen");
	if (p) {
		*p = 4242;
		th_mark(0);
		check_value(th_gettid(), 4242);
	}
	TH_CHECK(th_map_entries(&map) == 1, "%d entries", th_map_entries(&map));
	dlclose(lib.handle);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
