// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread's entry goes when it exits, not when the kernel frees its task.
 * A process's main thread registers and calls pthread_exit() while another
 * thread lives on: the main thread stays a zombie, holding its task (and,
 * by itself, its task storage) until the whole process exits. libtld
 * leaves an exiting thread's entry to the map's tld_exit program, which
 * must delete it at the exit: the map soon holds as many entries as
 * before, while the process still runs, and no vouched entry is reported
 * erased.
 *
 * Checked to fail (make mutate): with tld_exit deleting nothing, the
 * entry stays as long as the other thread lives.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static int go[2];

static void *survivor(void *arg)
{
	char c;

	if (read(go[0], &c, 1) < 0)
		_exit(1);
	_exit(0);
	return arg;
}

static void child(void)
{
	__u64 *p = tld_get_data(static_key);
	pthread_t t;

	if (!p)
		_exit(2);
	*p = 1;
	if (pthread_create(&t, NULL, survivor, NULL))
		_exit(3);
	pthread_exit(NULL);
}

static long long erased_pending(const struct th_map *m)
{
	char args[256], out[2048], *p;

	snprintf(args, sizeof(args), "--path %s -j map show", m->path);
	if (th_tldtool(args, out, sizeof(out)) || !(p = strstr(out, "\"erased_pending\":")))
		th_fatal("tldtool %s: %s", args, out);
	return atoll(p + strlen("\"erased_pending\":"));
}

int main(void)
{
	struct th_map map;
	int base, st;
	pid_t pid;

	th_map_create(&map, NULL);
	if (pipe(go))
		th_fatal("pipe: %m");
	base = th_map_entries(&map);
	pid = fork();
	if (pid < 0)
		th_fatal("fork: %m");
	if (!pid)
		child();
	th_map_entries_wait(&map, base);
	TH_CHECK(waitpid(pid, &st, WNOHANG) == 0, "the process exited before its other thread was let go");
	TH_CHECK(erased_pending(&map) == 0, "%lld vouched entries reported erased",
		 erased_pending(&map));
	if (write(go[1], "x", 1) != 1)
		th_fatal("write: %m");
	TH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
		 "the child failed (%#x)", st);
	th_map_remove(&map);
	th_done();
}
