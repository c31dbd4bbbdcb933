// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * wakematrix: run a command whose threads publish a role with libtld, and
 * count from BPF who woke whom, by role.
 *
 *	wakematrix [--map PATH] -- COMMAND [ARGS...]
 *
 * For pingpong (which prints "rounds=N"): exits 0 when ping woke pong N
 * times and pong woke ping N times (N + 1 with its exit), and no thread was
 * counted as waking its own role, which reading the waker's hints for the
 * wakee would do.
 */
#include <stdio.h>

#include "../consumer.h"
#include "wakematrix.skel.h"
#include "wakeups.h"

static const char *const roles[ROLES] = { "none", "ping", "pong" };

static int rounds;

static void wakematrix_line(const char *line)
{
	sscanf(line, "rounds=%d", &rounds);
}

/*
 * pingpong makes every handoff a wakeup, and the one extra wakeup it allows
 * is pong's exit ending ping's pthread_join().
 */
static bool matrix_ok(__u64 m[ROLES][ROLES])
{
	__u64 n = rounds;

	return n > 0 && m[ROLE_PING][ROLE_PONG] == n && m[ROLE_PONG][ROLE_PING] >= n &&
	       m[ROLE_PONG][ROLE_PING] <= n + 1 && !m[ROLE_PING][ROLE_PING] &&
	       !m[ROLE_PONG][ROLE_PONG];
}

static int wakematrix_report(void *arg)
{
	struct wakematrix_bpf *skel = arg;
	__u64 (*m)[ROLES] = skel->bss->matrix;
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
	ok = matrix_ok(m);
	printf("\n%d rounds: ping and pong woke each other, and never themselves: %s\n", rounds,
	       ok ? "yes" : "NO");
	return ok ? 0 : 1;
}

static const struct consumer wakematrix = {
	.line = wakematrix_line,
	.report = wakematrix_report,
};

CONSUMER_MAIN(wakematrix, &wakematrix)
