// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wakematrix: run a command whose threads publish a role with libtld, and
 * count from BPF who woke whom, by role.
 *
 *	wakematrix [--map PATH] -- COMMAND [ARGS...]
 *
 * For pingpong (which prints "rounds=N"): exits 0 when ping woke pong and
 * pong woke ping at least N/2 times each and at most N, and no thread was
 * counted as waking its own role, which reading the waker's hints for the
 * wakee would do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tld/loader.h>

#include "../consumer.h"
#include "wakematrix.skel.h"
#include "wakeups.h"

static const char *const roles[ROLES] = { "none", "ping", "pong" };

static int run(char **argv)
{
	char line[128];
	int rounds = 0, st;
	FILE *in;
	pid_t pid;

	pid = consumer_spawn(argv, &in);
	if (pid < 0)
		return -1;
	while (fgets(line, sizeof(line), in))
		sscanf(line, "rounds=%d", &rounds);
	fclose(in);
	waitpid(pid, &st, 0);
	return rounds;
}

static int report(__u64 m[ROLES][ROLES], long rounds)
{
	int i, j;
	bool ok;

	printf("wakeups, waker (rows) by wakee (columns), wakees read from the woken task:\n%-6s",
	       "");
	for (j = 0; j < ROLES; j++)
		printf(" %8s", roles[j]);
	putchar('\n');
	for (i = 0; i < ROLES; i++) {
		printf("%-6s", roles[i]);
		for (j = 0; j < ROLES; j++)
			printf(" %8llu", (unsigned long long)m[i][j]);
		putchar('\n');
	}
	ok = m[ROLE_PING][ROLE_PONG] * 2 >= (__u64)rounds && m[ROLE_PING][ROLE_PONG] <= (__u64)rounds &&
	     m[ROLE_PONG][ROLE_PING] * 2 >= (__u64)rounds && m[ROLE_PONG][ROLE_PING] <= (__u64)rounds + 1 &&
	     !m[ROLE_PING][ROLE_PING] && !m[ROLE_PONG][ROLE_PONG];
	printf("\n%ld rounds: ping and pong woke each other, and never themselves: %s\n", rounds,
	       ok ? "yes" : "NO");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *map_path;
	struct wakematrix_bpf *skel;
	int i, err, rounds;

	i = consumer_args(argc, argv, &map_path);
	if (i < 0)
		return 2;
	skel = wakematrix_bpf__open();
	err = skel ? tld_loader_load_skeleton(skel->skeleton, map_path) : -errno;
	if (err) {
		fprintf(stderr, "wakematrix: cannot load the BPF consumer: %s\n", strerror(-err));
		return 1;
	}
	rounds = run(argv + i);
	err = rounds > 0 ? report(skel->bss->matrix, rounds) : 1;
	wakematrix_bpf__destroy(skel);
	return err;
}
