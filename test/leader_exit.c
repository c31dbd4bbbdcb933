// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread's entry goes when it exits, not when the kernel frees its task.
 * A process's main thread registers and calls pthread_exit() while another
 * thread lives on: the main thread stays a zombie, holding its task (and,
 * by itself, its task storage) until the whole process exits. libtld
 * leaves an exiting thread's entry to the map's tld_exit program, which
 * must delete it at the exit. The test sees the entry made (the child says
 * so, and the map holds one more), the main thread a zombie, and then the
 * map soon holding as many entries as before, while the process still
 * runs; and no vouched entry reported erased.
 *
 * Checked to fail (make mutate): with tld_exit deleting nothing, the
 * entry stays as long as the other thread lives.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static int go[2], registered[2], counted[2];

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
	char c;

	if (!p)
		_exit(2);
	*p = 1;
	if (pthread_create(&t, NULL, survivor, NULL) || write(registered[1], "x", 1) != 1 ||
	    read(counted[0], &c, 1) != 1)
		_exit(3);
	pthread_exit(NULL);
}

/* Wait until @pid's main thread is a zombie (its other thread lives on). */
static void wait_zombie(pid_t pid)
{
	char path[64], buf[256], *s;
	int i, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < 500; i++) {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		s = strrchr(buf, ')');
		if (s && s[1] == ' ' && s[2] == 'Z')
			return;
		usleep(10000);
	}
	th_fatal("process %d's main thread is not a zombie after 5 s: '%s'", pid, buf);
}

int main(void)
{
	struct th_map map;
	int base, st;
	pid_t pid;
	char c;

	th_map_create(&map, NULL);
	if (pipe(go) || pipe(registered) || pipe(counted))
		th_fatal("pipe: %m");
	base = th_map_entries(&map);
	pid = fork();
	if (pid < 0)
		th_fatal("fork: %m");
	if (!pid)
		child();
	if (read(registered[0], &c, 1) != 1)
		th_fatal("the child did not register");
	TH_CHECK(th_map_entries(&map) == base + 1, "%d entries with the child registered, %d before",
		 th_map_entries(&map), base);
	if (write(counted[1], "x", 1) != 1)
		th_fatal("write: %m");
	wait_zombie(pid);
	th_map_entries_wait(&map, base);
	TH_CHECK(waitpid(pid, &st, WNOHANG) == 0, "the process exited before its other thread was let go");
	TH_CHECK(th_map_show(&map, "erased_pending") == 0, "%lld vouched entries reported erased",
		 th_map_show(&map, "erased_pending"));
	if (write(go[1], "x", 1) != 1)
		th_fatal("write: %m");
	TH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
		 "the child failed (%#x)", st);
	th_map_remove(&map);
	th_done();
}
