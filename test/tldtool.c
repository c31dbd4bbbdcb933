// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool map create and show, and what they promise: the mode and group
 * asked for; create again keeps the map (and its registrations); show
 * counts registered threads, also as JSON; bad arguments are usage errors;
 * a path holding something else is refused; --force re-creates the map and
 * tld_refresh() re-registers every thread in it; a 0666 map lets another
 * user's process register its own threads; a missing bpffs is mounted.
 *
 * Checked to fail (make mutate): applying the default mode to a kept map
 * resets it to 0600, as a bug here once did.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "reader.skel.h"

#define NTHREADS	3

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct th_map map;
static pthread_barrier_t registered, finish;

static int tool(const char *args, char *out, size_t len)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "--path %s %s", map.path, args);
	return th_tldtool(cmd, out, len);
}

static void *worker(void *arg)
{
	(void)arg;
	*(__u64 *)tld_get_data(static_key) = th_gettid();
	pthread_barrier_wait(&registered);
	pthread_barrier_wait(&finish);
	return NULL;
}

static unsigned int map_id(void)
{
	char out[1024], *p;

	tool("map show", out, sizeof(out));
	p = strstr(out, "map id ");
	return p ? strtoul(p + 7, NULL, 10) : 0;
}

static void create_and_show(void)
{
	struct stat st = { 0 };
	char out[2048];

	TH_CHECK(stat(map.path, &st) == 0 && (st.st_mode & 0777) == 0660 && st.st_gid == 65534,
		 "mode %o gid %u", st.st_mode & 0777, st.st_gid);
	TH_CHECK(tool("map create", out, sizeof(out)) == 0 && strstr(out, "kept tld map"),
		 "create again: %s", out);
	TH_CHECK(tool("map show", out, sizeof(out)) == 0 && strstr(out, "entries 4") &&
		 strstr(out, "mode 0660") && strstr(out, "group nogroup"), "show: %s", out);
	TH_CHECK(tool("-j map show", out, sizeof(out)) == 0 && out[0] == '{' &&
		 strstr(out, "\"entries\":4") && strstr(out, "\"mode\":432") &&
		 !strchr(out, ' '), "json: %s", out);
	TH_CHECK(tool("-p map show", out, sizeof(out)) == 0 &&
		 strstr(out, "\n    \"entries\": 4"), "pretty: %s", out);
	TH_CHECK(tool("--mode 99 map create", out, sizeof(out)) == 2 &&
		 strstr(out, "not an octal mode"), "bad mode: %s", out);
	TH_CHECK(tool("map frobnicate", out, sizeof(out)) == 2, "bad verb: %s", out);
}

static void not_a_map(void)
{
	char cmd[512], out[1024];

	snprintf(cmd, sizeof(cmd), "--path %s/tld_exec map create", map.dir);
	TH_CHECK(th_tldtool(cmd, out, sizeof(out)) == 1 && strstr(out, "holds something else"),
		 "create over a link: %s", out);
}

/* Re-create the map under running threads; tld_refresh() moves them all. */
static void recreate(void)
{
	struct reader_bpf *reader;
	unsigned int before = map_id();
	struct th_result r;
	char out[1024];

	TH_CHECK(tool("--force --mode 0666 map create", out, sizeof(out)) == 0, "force: %s", out);
	TH_CHECK(map_id() != before, "--force kept map %u", before);
	TH_CHECK(tool("map show", out, sizeof(out)) == 0 && strstr(out, "entries 0"),
		 "fresh map: %s", out);
	TH_CHECK(tld_refresh() == NTHREADS + 1, "tld_refresh");
	TH_CHECK(tool("map show", out, sizeof(out)) == 0 && strstr(out, "entries 4"),
		 "after refresh: %s", out);
	reader = th_reader_load();
	th_mark(0);
	TH_CHECK(th_result(reader, th_gettid(), &r) && r.head[TH_STATIC] == 77,
		 "BPF reads the new map: %llu", r.head[TH_STATIC]);
	th_reader_destroy(reader);
}

/* The exec'ed child: uid 65534, registers and marks when told to. */
static int unprivileged_child(int go)
{
	__u64 *v = tld_get_data(static_key);
	char c;

	if (!v)
		return 2;
	*v = 65534;
	if (read(go, &c, 1) != 1)
		return 1;
	th_mark(0);
	return 0;
}

static void unprivileged(void)
{
	struct reader_bpf *reader = th_reader_load();
	struct th_result r;
	int pipefd[2], st;
	char fd[16];
	pid_t pid;

	if (pipe(pipefd))
		th_fatal("pipe: %m");
	pid = fork();
	if (!pid) {
		close(pipefd[1]);
		snprintf(fd, sizeof(fd), "%d", pipefd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(3);
		execl(th_exe(), th_exe(), "child", fd, NULL);
		_exit(4);
	}
	close(pipefd[0]);
	if (write(pipefd[1], "g", 1) != 1)
		th_fatal("write: %m");
	waitpid(pid, &st, 0);
	TH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %x (exit 2: it got no data)",
		 st);
	TH_CHECK(th_result(reader, pid, &r) && r.init_err == 0 && r.head[TH_STATIC] == 65534,
		 "BPF read the unprivileged thread: err %d value %llu", r.init_err,
		 r.head[TH_STATIC]);
	th_reader_destroy(reader);
}

/* In a private mount namespace without a bpffs, create mounts one. */
static void mounts_bpffs(void)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "unshare -m sh -c 'while mountpoint -q /sys/fs/bpf; do umount /sys/fs/bpf || exit; done && "
		 "%s/tldtool --path /sys/fs/bpf/tld/tld_data_map map create >/dev/null && "
		 "mountpoint -q /sys/fs/bpf && test -e /sys/fs/bpf/tld/tld_data_map'",
		 th_build_dir());
	st = system(cmd);
	TH_CHECK(st == 0, "bpffs mounted by map create: status %x", st);
}

/*
 * A bpffs root that keeps others out (some systems mount it 0700): a map
 * made for everyone says that it reaches no one but root. Checked to fail
 * without the pin_reach_check() call in map_create().
 */
static void warns_unreachable(void)
{
	char cmd[1024], out[1024];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "unshare -m sh -c 'mount -t bpf -o mode=0700 bpf /sys/fs/bpf && "
		 "%s/tldtool --path /sys/fs/bpf/tld/tld_data_map map create >/dev/null'",
		 th_build_dir());
	st = th_run(cmd, out, sizeof(out));
	TH_CHECK(st == 0 && strstr(out, "warning: /sys/fs/bpf is mode 1700"),
		 "map create under a 0700 bpffs: status %d, %s", st, out);
}

int main(int argc, char **argv)
{
	pthread_t threads[NTHREADS];
	int i;

	if (argc == 3 && !strcmp(argv[1], "child"))
		return unprivileged_child(atoi(argv[2]));
	th_map_create(&map, "--mode 0660 --group nogroup");
	pthread_barrier_init(&registered, NULL, NTHREADS + 1);
	pthread_barrier_init(&finish, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	*(__u64 *)tld_get_data(static_key) = 77;
	pthread_barrier_wait(&registered);

	create_and_show();
	not_a_map();
	recreate();
	unprivileged();
	mounts_bpffs();
	warns_unreachable();

	pthread_barrier_wait(&finish);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(threads[i], NULL);
	th_map_remove(&map);
	th_done();
}
