// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * reqtrace: run a server whose workers publish their current request with
 * libtld, charge off-CPU time and system calls to requests from BPF, and
 * print the top requests and the tenants' totals.
 *
 *	reqtrace [--map PATH] -- COMMAND [ARGS...]
 *
 * COMMAND reports each request as
 *	served id=ID tenant=T syscalls=N slept_us=U
 * Exits 0 when BPF saw every request with exactly its system calls (plus
 * the sleep's), and with its sleep as off-CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "../consumer.h"
#include "reqtrace.skel.h"
#include "requests.h"

#define MAX_REQUESTS	4096
#define MAX_TENANTS	16

struct served {
	struct req_key key;
	unsigned int syscalls, slept_us;
	struct req_stat bpf;
};

static struct served served[MAX_REQUESTS];
static int nserved;

static void reqtrace_line(const char *line)
{
	struct served *s = &served[nserved];

	if (nserved < MAX_REQUESTS &&
	    sscanf(line, "served id=%u tenant=%u syscalls=%u slept_us=%u", &s->key.id,
		   &s->key.tenant, &s->syscalls, &s->slept_us) == 4)
		nserved++;
}

/* Whether BPF's count and time for @s are what the server says it did. */
static bool served_ok(const struct served *s)
{
	unsigned int syscalls = s->syscalls + (s->slept_us ? 1 : 0);

	if (s->bpf.syscalls != syscalls)
		return false;
	if (s->slept_us)
		return s->bpf.offcpu_ns >= s->slept_us * 900ull;
	return s->bpf.offcpu_ns < 1000000;
}

static int by_offcpu(const void *a, const void *b)
{
	const struct served *x = a, *y = b;

	return (y->bpf.offcpu_ns > x->bpf.offcpu_ns) - (y->bpf.offcpu_ns < x->bpf.offcpu_ns);
}

static void print_tenants(const struct served *s, int n)
{
	struct req_stat t[MAX_TENANTS] = { 0 };
	int i;

	for (i = 0; i < n; i++) {
		if (s[i].key.tenant >= MAX_TENANTS)
			continue;
		t[s[i].key.tenant].offcpu_ns += s[i].bpf.offcpu_ns;
		t[s[i].key.tenant].syscalls += s[i].bpf.syscalls;
		t[s[i].key.tenant].blocks++;
	}
	printf("\nPer tenant:\n  %-7s %9s %12s %9s\n", "tenant", "requests", "off-CPU ms", "syscalls");
	for (i = 0; i < MAX_TENANTS; i++)
		if (t[i].blocks)
			printf("  %-7d %9llu %12.1f %9llu\n", i, (unsigned long long)t[i].blocks,
			       t[i].offcpu_ns / 1e6, (unsigned long long)t[i].syscalls);
}

static int reqtrace_report(void *arg)
{
	struct reqtrace_bpf *skel = arg;
	int fd = bpf_map__fd(skel->maps.reqs), n = nserved, i, ok = 0;
	struct served *s = served;

	for (i = 0; i < n; i++) {
		memset(&s[i].bpf, 0, sizeof(s[i].bpf));
		bpf_map_lookup_elem(fd, &s[i].key, &s[i].bpf);
		ok += served_ok(&s[i]);
	}
	qsort(s, n, sizeof(*s), by_offcpu);
	printf("Top requests by off-CPU time, as BPF charged them:\n");
	printf("  %-6s %-7s %12s %8s %9s %10s\n", "id", "tenant", "off-CPU ms", "blocks", "syscalls",
	       "slept ms");
	for (i = 0; i < n && i < 10; i++)
		printf("  %-6u %-7u %12.2f %8llu %9llu %10.1f\n", s[i].key.id, s[i].key.tenant,
		       s[i].bpf.offcpu_ns / 1e6, (unsigned long long)s[i].bpf.blocks,
		       (unsigned long long)s[i].bpf.syscalls, s[i].slept_us / 1e3);
	print_tenants(s, n);
	printf("\nBPF saw each request's system calls and sleep: %d of %d requests\n", ok, n);
	for (i = 0; i < n; i++)
		if (!served_ok(&s[i]))
			printf("  id %u: %llu syscalls (server: %u + sleep), off-CPU %.2f ms (slept %.1f)\n",
			       s[i].key.id, (unsigned long long)s[i].bpf.syscalls, s[i].syscalls,
			       s[i].bpf.offcpu_ns / 1e6, s[i].slept_us / 1e3);
	return ok == n && n > 0 ? 0 : 1;
}

static const struct consumer reqtrace = {
	.line = reqtrace_line,
	.report = reqtrace_report,
};

CONSUMER_MAIN(reqtrace, &reqtrace)
