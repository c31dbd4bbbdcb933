// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hintstat: run a command whose threads publish hints with libtld, charge
 * CPU time to their hints from BPF (tp_btf/sched_switch), then print what
 * BPF saw next to what each thread says it wrote.
 *
 *	hintstat [--map PATH] -- COMMAND [ARGS...]
 *
 * COMMAND reports each thread as "wrote tid=TID class=CLASS requests=N".
 * Exits 0 when BPF saw every thread with the class it wrote.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <tld/loader.h>

#include "hints.h"
#include "hintstat.skel.h"

#define MAX_THREADS	1024

struct wrote {
	int tid;
	char class[16];
	unsigned long long requests;
};

static pid_t run(char **argv, FILE **out)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "hintstat: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*out = fdopen(fds[0], "r");
	return pid;
}

static int collect(FILE *in, struct wrote *w)
{
	char line[256];
	int n = 0;

	while (fgets(line, sizeof(line), in)) {
		if (n < MAX_THREADS &&
		    sscanf(line, "wrote tid=%d class=%15s requests=%llu", &w[n].tid, w[n].class,
			   &w[n].requests) == 3)
			n++;
		else
			fputs(line, stdout);
	}
	return n;
}

static int report(struct hintstat_bpf *skel, const struct wrote *w, int n)
{
	int fd = bpf_map__fd(skel->maps.threads), i, seen = 0;
	__u64 total = 0, *ns = skel->bss->class_ns;
	struct hint_thread t;
	__u32 tid;

	printf("%-8s %-12s %-12s %14s %14s %9s %9s\n", "tid", "wrote", "BPF saw",
	       "requests", "BPF request", "CPU ms", "switches");
	for (i = 0; i < n; i++) {
		tid = w[i].tid;
		if (bpf_map_lookup_elem(fd, &tid, &t)) {
			printf("%-8d %-12s %-12s %14llu %14s %9s %9s\n", tid, w[i].class, "-",
			       w[i].requests, "-", "-", "-");
			continue;
		}
		seen += !strcmp(w[i].class, hint_class_name(t.class));
		printf("%-8d %-12s %-12s %14llu %14llu %9.1f %9llu\n", tid, w[i].class,
		       hint_class_name(t.class), w[i].requests, (unsigned long long)t.request,
		       t.cpu_ns / 1e6, (unsigned long long)t.switches);
	}
	for (i = 0; i <= HINT_NONE; i++)
		total += ns[i];
	printf("\nCPU time per hint class, as BPF charged it (all tld threads on this machine):\n");
	for (i = 0; i <= HINT_NONE; i++)
		printf("  %-8s %9.1f ms  %5.1f%%\n", hint_class_name(i), ns[i] / 1e6,
		       total ? 100.0 * ns[i] / total : 0);
	printf("\nBPF saw the class each thread wrote: %d of %d threads\n", seen, n);
	return seen == n && n > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct wrote wrote[MAX_THREADS];
	const char *map_path = NULL;
	struct hintstat_bpf *skel;
	int i = 1, n, err, st;
	FILE *out;
	pid_t pid;

	if (argc > 2 && !strcmp(argv[1], "--map")) {
		map_path = argv[2];
		i = 3;
	}
	if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc) {
		fprintf(stderr, "usage: hintstat [--map PATH] -- COMMAND [ARGS...]\n");
		return 2;
	}
	skel = hintstat_bpf__open();
	err = skel ? tld_loader_reuse_map(skel->obj, map_path) : -errno;
	if (!err)
		err = hintstat_bpf__load(skel);
	if (!err)
		err = hintstat_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "hintstat: cannot load the BPF consumer: %s\n", strerror(-err));
		return 1;
	}
	pid = run(argv + i + 1, &out);
	if (pid < 0) {
		fprintf(stderr, "hintstat: cannot run %s: %s\n", argv[i + 1], strerror(errno));
		return 1;
	}
	n = collect(out, wrote);
	waitpid(pid, &st, 0);
	err = report(skel, wrote, n);
	hintstat_bpf__destroy(skel);
	return err;
}
