// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The print callback may call libtld back: it never runs with libtld's
 * lock held. A fork child never calls it from the atfork handler (only
 * async-signal-safe calls are allowed there), even when the child's thread
 * fails to attach; the child learns why from tld_thread_status(), and its
 * next tld_get_data() tries again, printing then.
 *
 * Checked to fail (make mutate): with messages printed under the lock, the
 * callback's tld_get_data() deadlocks and the alarm ends the test.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static int *child_calls;	/* shared with the fork child */
static pid_t parent;
static int calls, reentered;

static int reenter(const char *fmt, va_list args)
{
	(void)fmt;
	(void)args;
	if (getpid() != parent) {
		__atomic_add_fetch(child_calls, 1, __ATOMIC_RELAXED);
		return 0;
	}
	calls++;
	/* Each takes the lock the message may have been said under. */
	tld_get_data(static_key);
	tld_thread_status();
	tld_key_err(tld_create_key("test.callback", sizeof(__u64)));
	reentered++;
	return 0;
}

/* libtld's map fd: the only BPF map this process holds. */
static int libtld_map_fd(void)
{
	char link[300], target[64];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int fd = -1;
	ssize_t n;

	while (dir && fd < 0 && (d = readdir(dir))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', !strcmp(target, "anon_inode:bpf-map")))
			fd = atoi(d->d_name);
	}
	if (dir)
		closedir(dir);
	if (fd < 0)
		th_fatal("libtld holds no map");
	return fd;
}

/* Fork with libtld's map fd naming /dev/null, so the child cannot attach. */
static void fork_failing(void)
{
	int map_fd = libtld_map_fd(), saved = dup(map_fd), null = open("/dev/null", O_RDWR);
	int status, err;
	pid_t pid;

	dup2(null, map_fd);
	pid = fork();
	if (!pid) {
		if (*child_calls)
			_exit(10);
		err = tld_thread_status();
		if (err == 0 || err == -ENODATA)
			_exit(11);
		tld_get_data(static_key);
		_exit(*child_calls ? 0 : 12);
	}
	dup2(saved, map_fd);
	close(saved);
	close(null);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		th_fatal("fork: %m");
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 10,
		 "the callback ran in the fork child's atfork handler");
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 11,
		 "the child's status hides its failed attach");
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "the child's next tld_get_data() did not try again (status %#x)", status);
}

int main(void)
{
	struct th_map map;

	parent = getpid();
	child_calls = mmap(NULL, sizeof(*child_calls), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_calls == MAP_FAILED)
		th_fatal("mmap: %m");
	alarm(60);
	tld_set_print(reenter);

	th_map_name(&map);
	/* Said under the lock; the callback's tld_get_data() then registers. */
	TH_CHECK(tld_refresh() == -ENOENT, "a refresh without a map");
	TH_CHECK(calls >= 1 && reentered == calls, "the callback ran %d times, returned %d",
		 calls, reentered);
	TH_CHECK(tld_get_data(static_key) == NULL, "registered without a map");

	th_map_create(&map, NULL);
	TH_CHECK(tld_thread_init() == 0, "registration once the map exists");
	fork_failing();

	th_map_remove(&map);
	th_done();
}
