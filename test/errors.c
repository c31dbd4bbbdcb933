// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every way of not finding a usable map is a negative errno and a message
 * that names the problem: no map, no bpffs, a map of the wrong type or
 * value size, a pinned object that is not a map, a map this user may not
 * open, bad opts, a tld_init() naming another map once one is open
 * (the same map again is fine). Threads that cannot register get
 * NULL, and the reason is printed once, not once per thread.
 *
 * Checked to fail (make mutate): without tld_fd_is_map(), the pinned link
 * is taken for a map and its message is wrong.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct th_map map;

static int init_at(const char *path)
{
	TLD_OPTS(opts, .map_path = path);

	return tld_init(&opts);
}

static void expect(const char *path, int err, const char *msg)
{
	TH_CHECK(init_at(path) == err, "%s: want %d", path, err);
	TH_CHECK(th_captured(msg), "%s: no message containing '%s'", path, msg);
}

static void pin(int fd, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", map.dir, name);
	if (fd < 0 || bpf_obj_pin(fd, path))
		th_fatal("pin %s: %m", path);
	close(fd);
}

/* A task storage map whose value is 16 bytes. */
static int bad_value_map(void)
{
	static const int sizes[] = { 8, 8 };

	return th_task_storage_map("bad_value", sizes, 2, 16);
}

static void *implicit(void *arg)
{
	(void)arg;
	TH_CHECK(tld_get_data(static_key) == NULL, "registered without a map");
	TH_CHECK(tld_get_data(static_key) == NULL, "second try");
	return NULL;
}

static void *explicit(void *arg)
{
	(void)arg;
	TH_CHECK(tld_thread_init() == -ENOENT, "tld_thread_init without a map");
	return NULL;
}

static void run(void *(*fn)(void *), int n)
{
	pthread_t t[8];
	int i;

	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, fn, NULL);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* An unprivileged process may not open a 0600 map (the default is 0666). */
static void unprivileged(void)
{
	int st;
	pid_t pid = fork();

	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		_exit(init_at(map.path) == -EACCES && th_captured("do not admit this user") ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	TH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "as uid 65534: status %x", st);
}

int main(void)
{
	char missing[256], hash[256], bad[256], link[256];
	struct {
		struct tld_opts opts;
		char newer_field[8];
	} future = { .opts.sz = sizeof(future), .newer_field = { 1 } };
	struct tld_opts tiny = { .sz = 1 };

	th_map_create(&map, "--mode 0600");
	th_capture();
	snprintf(missing, sizeof(missing), "%s/nothing", map.dir);

	/* Implicit registration: one message for all threads; explicit: each. */
	setenv("TLD_MAP_PATH", missing, 1);
	run(implicit, 4);
	TH_CHECK(th_captured_count("no tld map at") == 1, "reported once");
	run(explicit, 2);
	TH_CHECK(th_captured_count("no tld map at") == 2, "reported on every explicit try");

	expect(missing, -ENOENT, "create it with 'tldtool map create'");
	expect("/tmp/tld-no-such-dir/map", -ENOENT, "no bpffs is mounted there");
	pin(bpf_map_create(BPF_MAP_TYPE_HASH, "hash", 4, 24, 1, NULL), "hash", hash, sizeof(hash));
	expect(hash, -EINVAL, "not a task storage map");
	pin(bad_value_map(), "bad_value", bad, sizeof(bad));
	expect(bad, -EINVAL, "key and value sizes 4 and 16");
	snprintf(link, sizeof(link), "%s/tld_exec", map.dir);
	expect(link, -EINVAL, "a pinned BPF object, but not a map");
	TH_CHECK(tld_init(&tiny) == -EINVAL && th_captured("sz 1 is too small"), "tiny opts");
	TH_CHECK(tld_init(&future.opts) == -EINVAL && th_captured("does not know the fields"),
		 "opts from a newer libtld");
	unprivileged();

	TH_CHECK(init_at(map.path) == 0, "the real map");
	/* Another library's constructor may have chosen the map first. */
	TH_CHECK(init_at(map.path) == 0, "tld_init() again with the same map");
	expect(missing, -EALREADY, "already uses the map");
	TH_CHECK(tld_thread_init() == 0 && tld_get_data(static_key), "registration works now");

	unlink(hash);
	unlink(bad);
	th_map_remove(&map);
	th_done();
}
