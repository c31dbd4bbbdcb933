// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The example consumers, each with its application, against this test's
 * map. Each consumer checks what BPF measured against what its application
 * says it did, and exits 0 only if it all agrees:
 * - hintstat: every thread's class, and a wakeup per request of the latency
 *   and normal threads, read from switched-out and woken tasks;
 * - reqtrace: exactly each request's system calls, and its sleep as
 *   off-CPU time, charged to the request id and tenant;
 * - wakematrix: ping and pong woke each other once per handoff, read from
 *   the woken task (pingpong makes each handoff a wakeup).
 *
 * Checked to fail (make mutate): with wakematrix reading the waker's role
 * for the wakee, the diagonal fills and it exits 1.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static struct th_map map;
static char out[65536];

static void example(const char *consumer, const char *app, const char *verdict)
{
	char cmd[PATH_MAX + 512];
	int st;

	snprintf(cmd, sizeof(cmd), "%s/examples/%s --map %s -- %s/examples/%s", th_build_dir(),
		 consumer, map.path, th_build_dir(), app);
	st = th_run(cmd, out, sizeof(out));
	if (!TH_CHECK(st == 0 && strstr(out, verdict), "%s: exit %d", cmd, st))
		fprintf(stderr, "%s\n", out);
	else
		printf("%s: %s\n", consumer, verdict);
}

int main(void)
{
	th_map_create(&map, NULL);
	example("hintstat", "hints 4 2", "its wakeups: 4 of 4 threads");
	example("reqtrace", "server 4 40", "system calls and sleep: 40 of 40 requests");
	example("wakematrix", "pingpong 5000", "and never themselves: yes");
	th_map_remove(&map);
	th_done();
}
