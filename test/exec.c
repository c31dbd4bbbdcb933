// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * exec: task storage survives execve, so without help BPF would go on
 * reading the old image's pinned pages. The program tldtool attaches on
 * tp_btf/sched_process_exec deletes the entry: a registered child that
 * execs a program using no tld has no data afterwards.
 *
 * The same test with the exec link removed shows the stale data, which is
 * how this test is known to fail without the program; make mutate also
 * empties the program.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct reader_bpf *reader;

/*
 * A child registers and stores @v, then execs a shell that prints a line;
 * the exec has happened once the parent reads it. Returns what BPF saw for
 * the child after the exec.
 */
static struct th_result exec_child(__u64 v)
{
	struct th_result r = { .init_err = 1 };
	int to_child[2], from_child[2];
	char line[32];
	FILE *in;
	pid_t pid;
	int st;

	if (pipe(to_child) || pipe(from_child))
		th_fatal("pipe: %m");
	pid = fork();
	if (!pid) {
		*(__u64 *)tld_get_data(static_key) = v;
		if (write(from_child[1], "r\n", 2) != 2 || read(to_child[0], line, 1) != 1)
			_exit(1);
		dup2(from_child[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", "echo execed; exec sleep 5", (char *)NULL);
		_exit(127);
	}
	close(from_child[1]);
	in = fdopen(from_child[0], "r");
	if (!fgets(line, sizeof(line), in))
		th_fatal("child did not register");
	th_mark(pid);
	TH_CHECK(th_result(reader, pid, &r) && r.init_err == 0 && r.head[TH_STATIC] == v,
		 "before exec: err %d value %llu", r.init_err, r.head[TH_STATIC]);
	if (write(to_child[1], "g", 1) != 1 || !fgets(line, sizeof(line), in) ||
	    strcmp(line, "execed\n"))
		th_fatal("child did not exec");
	th_mark(pid);
	th_result(reader, pid, &r);
	kill(pid, 9);
	waitpid(pid, &st, 0);
	fclose(in);
	close(to_child[0]);
	close(to_child[1]);
	return r;
}

int main(void)
{
	char link[256], out[256], shown[2048] = "";
	struct th_result r;
	struct th_map map;

	/*
	 * No sweep: the guard would delete the stale entry on the next switch
	 * and hide a missing exec program, which this test is about.
	 */
	th_map_create(&map, "--no-sweep");
	reader = th_reader_load();

	r = exec_child(11);
	TH_CHECK(r.init_err == -61, "after exec: err %d value %llu, want no data", r.init_err,
		 r.head[TH_STATIC]);

	/* Without the exec link, the old image's value is still read. */
	snprintf(link, sizeof(link), "%s/tld_exec", map.dir);
	TH_CHECK(unlink(link) == 0, "unlink %s", link);
	r = exec_child(12);
	TH_CHECK(r.init_err == 0 && r.head[TH_STATIC] == 12,
		 "without the exec program: err %d value %llu, want the stale 12", r.init_err,
		 r.head[TH_STATIC]);
	snprintf(out, sizeof(out), "--path %s map show", map.path);
	TH_CHECK(th_tldtool(out, shown, sizeof(shown)) == 0 && strstr(shown, "tld_exec is missing"),
		 "map show without the exec link: %s", shown);

	/* map create puts the link back on a kept map. */
	snprintf(out, sizeof(out), "--path %s map create", map.path);
	TH_CHECK(th_tldtool(out, NULL, 0) == 0, "map create");
	r = exec_child(13);
	TH_CHECK(r.init_err == -61, "link restored: err %d", r.init_err);

	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
