// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tld in containers: a 3-thread process started under unshare in a pid
 * namespace, a user namespace, a mount namespace, and all three, registers
 * its threads and publishes a value from each; from the host, a tld.bpf.h
 * reader must read every value (the guard took each thread's vouch), and
 * tldtool show must show them vouched.
 *
 * libtld vouches with gettid(), which inside a pid namespace is that
 * namespace's number. Checked to fail: with the guard resolving it with
 * bpf_task_from_pid() alone (as before), every vouch in a pid namespace is
 * refused and the reader gets -EACCES.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NTHREADS	3
#define WAIT_MS		5000

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static volatile int stop;

/* In the child: publish, say which host tid this is, then mark until told. */
static void *publisher(void *arg)
{
	__u64 *v = tld_get_data(static_key);
	int hpid, htid;
	char self[64];
	ssize_t n;

	/* /proc is the host's: thread-self is "HOSTPID/task/HOSTTID". */
	n = readlink("/proc/thread-self", self, sizeof(self) - 1);
	if (!v || n < 0)
		exit(2);
	self[n] = '\0';
	if (sscanf(self, "%d/task/%d", &hpid, &htid) != 2)
		exit(3);
	*v = 1000 + (long)arg;
	printf("%d %d %ld\n", hpid, htid, 1000 + (long)arg);
	fflush(stdout);
	while (!stop) {
		th_mark(0);
		usleep(1000);
	}
	return NULL;
}

static int child(void)
{
	pthread_t t[NTHREADS];
	char c;
	long i;

	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, publisher, (void *)i);
	while (read(0, &c, 1) > 0)
		;
	stop = 1;
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* Until the reader saw @value in @tid, or WAIT_MS: the child marks meanwhile. */
static bool seen(struct reader_bpf *reader, pid_t tid, __u64 value, struct th_result *r)
{
	int ms;

	for (ms = 0; ms < WAIT_MS; ms++) {
		if (th_result(reader, tid, r) && r->init_err == 0 && r->head[TH_STATIC] == value)
			return true;
		usleep(1000);
	}
	return false;
}

static void one(struct reader_bpf *reader, const char *flags)
{
	int to[2], from[2], i, st;
	struct th_result r = {};
	char cmd[PATH_MAX + 64], out[8192];
	pid_t pid, hpid, tid[NTHREADS];
	long value[NTHREADS];
	FILE *in;

	if (pipe(to) || pipe(from))
		th_fatal("pipe: %m");
	pid = fork();
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		snprintf(cmd, sizeof(cmd), "exec unshare %s %s child", flags, th_exe());
		execl("/bin/sh", "sh", "-c", cmd, NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	in = fdopen(from[0], "r");
	for (i = 0; i < NTHREADS; i++)
		if (fscanf(in, "%d %d %ld", &hpid, &tid[i], &value[i]) != 3)
			th_fatal("unshare %s: the child published nothing", flags);
	for (i = 0; i < NTHREADS; i++)
		TH_CHECK(seen(reader, tid[i], value[i], &r),
			 "unshare %s: host tid %d: err %d, value %llu, not %ld", flags, tid[i],
			 r.init_err, (unsigned long long)r.head[TH_STATIC], value[i]);
	snprintf(cmd, sizeof(cmd), "show %d", hpid);
	st = th_tldtool(cmd, out, sizeof(out));
	TH_CHECK(st == 0 && strstr(out, "test.static=1000") && !strstr(out, "NOT VOUCHED"),
		 "unshare %s: tldtool %s: %s", flags, cmd, out);
	close(to[1]);
	fclose(in);
	waitpid(pid, &st, 0);
	TH_CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "unshare %s: child status %x", flags, st);
}

static bool can_unshare(const char *flags)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "unshare %s true 2>/dev/null", flags);
	return system(cmd) == 0;
}

int main(int argc, char **argv)
{
	static const char *const flags[] = {
		"--pid --fork", "--user --map-root-user", "--mount",
		"--user --map-root-user --pid --fork --mount",
	};
	struct reader_bpf *reader;
	unsigned int i, tested = 0;
	struct th_map map;

	if (argc == 2 && !strcmp(argv[1], "child"))
		return child();
	th_map_create(&map, "");
	reader = th_reader_load();
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!can_unshare(flags[i])) {
			/* The VM suite runs chrooted: no user namespaces there. */
			printf("unshare %s: refused here, not tested\n", flags[i]);
			continue;
		}
		one(reader, flags[i]);
		tested++;
	}
	if (!tested)
		th_skip("unshare is refused here");
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
