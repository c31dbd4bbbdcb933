// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool top [--interval S] [--iterations N] [--by KEY]: every
 * registered thread, its hints and its share of a CPU, refreshed; and CPU
 * time summed by the values of KEY, or else of every integer key that looks
 * like a class: a few values, shared between threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tld_top.skel.h"
#include "tldtool.h"

#define TOP_MAX_ROWS	4096
#define TOP_MAX_GROUPS	256
#define TOP_MAX_VALUES	8	/* a key with more values is not a class */

struct top_row {
	struct tld_record rec;
	unsigned long long cpu;		/* ns in this interval */
};

/* CPU time of the threads whose key @name holds @value. */
struct top_group {
	char name[TLD_NAME_LEN + 1];
	unsigned long long value, cpu;
	unsigned int threads;
};

struct top {
	struct tld_top_bpf *skel;
	struct top_row *rows;
	unsigned int nrows;
	unsigned int total;		/* records seen: rows past TOP_MAX_ROWS are counted, not kept */
	struct top_group groups[TOP_MAX_GROUPS];
	unsigned int ngroups;
	unsigned long long *prev_ns;	/* by tid, last interval */
};

static int top_collect(const struct tld_record *r, void *ctx)
{
	struct top *top = ctx;

	top->total++;
	if (top->nrows < TOP_MAX_ROWS)
		top->rows[top->nrows++].rec = *r;
	return 0;
}

static unsigned long long top_cpu(struct top *top, __u32 tid)
{
	unsigned long long ns = 0, prev;

	bpf_map__lookup_elem(top->skel->maps.cpu_ns, &tid, sizeof(tid), &ns, sizeof(ns), 0);
	prev = top->prev_ns[tid % 65536];
	top->prev_ns[tid % 65536] = ns;
	return ns > prev ? ns - prev : 0;
}

static void top_group(struct top *top, const char *name, unsigned long long value,
		      unsigned long long cpu)
{
	unsigned int i;

	for (i = 0; i < top->ngroups; i++)
		if (top->groups[i].value == value && !strcmp(top->groups[i].name, name))
			break;
	if (i == top->ngroups) {
		if (i == TOP_MAX_GROUPS)
			return;
		top->ngroups++;
		snprintf(top->groups[i].name, sizeof(top->groups[i].name), "%.*s", TLD_NAME_LEN,
			 name);
		top->groups[i].value = value;
		top->groups[i].cpu = top->groups[i].threads = 0;
	}
	top->groups[i].cpu += cpu;
	top->groups[i].threads++;
}

/*
 * Print one thread, and charge its CPU time to its integer hints, if they
 * are its own: hints nobody vouched for are shown marked, and counted
 * nowhere.
 */
static void top_row(struct top *top, struct top_row *row, double interval)
{
	const struct tld_record *r = &row->rec;
	struct key_view keys[TLD_MAX_KEYS];
	int i, n = record_keys(r, keys);
	struct value_type vt;
	__u64 v;

	printf("%-8u %-8u ", r->head.tid, r->head.tgid);
	print_escaped(stdout, r->head.comm, sizeof(r->head.comm), 16);
	printf(" %5.1f%% ", 100.0 * row->cpu / (interval * 1e9));
	for (i = 0; i < n; i++) {
		if (!keys[i].in_page)
			continue;
		value_type(keys[i].name, r->data + keys[i].at, keys[i].size, &vt);
		putchar(' ');
		print_escaped(stdout, keys[i].name, sizeof(keys[i].name), 0);
		putchar('=');
		value_print(stdout, &vt, r->data + keys[i].at, keys[i].size);
		if (r->head.vouched && vt.count == 1 && vt.width && vt.kind != VALUE_BOOL) {
			v = 0;
			memcpy(&v, r->data + keys[i].at, vt.width);
			top_group(top, keys[i].name, v, row->cpu);
		}
	}
	puts(r->head.vouched ? "" : "  [NOT VOUCHED]");
}

static int top_group_cmp(const void *a, const void *b)
{
	const struct top_group *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->value > y->value) - (x->value < y->value);
}

/*
 * The groups of each key whose values are shared between threads, and are
 * at most TOP_MAX_VALUES: a class, not a request id.
 */
static void top_print_groups(struct top *top, const char *by)
{
	unsigned int i, j, threads;

	qsort(top->groups, top->ngroups, sizeof(top->groups[0]), top_group_cmp);
	printf("\nCPU time by hint value:\n");
	for (i = 0; i < top->ngroups; i = j) {
		threads = 0;
		for (j = i; j < top->ngroups && !strcmp(top->groups[j].name, top->groups[i].name); j++)
			threads += top->groups[j].threads;
		if (by ? strcmp(by, top->groups[i].name) :
			 j - i > TOP_MAX_VALUES || j - i >= threads) {
			i = j;
			continue;
		}
		for (; i < j; i++) {
			fputs("  ", stdout);
			print_escaped(stdout, top->groups[i].name, sizeof(top->groups[i].name), 0);
			printf("=%-6llu %9.1f ms  %u threads\n", top->groups[i].value,
			       top->groups[i].cpu / 1e6, top->groups[i].threads);
		}
	}
}

static void top_print(struct top *top, double interval, int round, const char *by)
{
	unsigned int i;

	if (isatty(STDOUT_FILENO))
		fputs("\033[H\033[J", stdout);
	else if (round)
		putchar('\n');
	printf("tldtool top: %u threads with tld data, every %.1f s", top->total, interval);
	if (top->total > top->nrows)
		printf(" (the first %u shown)", top->nrows);
	putchar('\n');
	printf("%-8s %-8s %-16s %6s  HINTS\n", "TID", "PID", "COMM", "CPU");
	top->ngroups = 0;
	for (i = 0; i < top->nrows; i++) {
		top->rows[i].cpu = top_cpu(top, top->rows[i].rec.head.tid);
		top_row(top, &top->rows[i], interval);
	}
	top_print_groups(top, by);
	fflush(stdout);
}

static int top_load(struct top *top, const char *map_path)
{
	int err;

	top->skel = tld_top_bpf__open();
	if (!top->skel)
		return -errno;
	err = pin_map_prepare(top->skel->maps.tld_data_map, map_path);
	if (!err && tld_top_bpf__load(top->skel))
		err = -errno;
	if (!err && tld_top_bpf__attach(top->skel))
		err = -errno;
	return err;
}

int tldtool_top(struct tldtool *t, int argc, char **argv)
{
	double interval = t->interval > 0 ? t->interval : 1.0;
	struct top top = { 0 };
	struct timespec ts;
	int round, err, fd;

	(void)argv;
	if (argc) {
		tldtool_err(0, "usage: tldtool top [--interval S] [--iterations N] [--by KEY]");
		return TLDTOOL_USAGE;
	}
	fd = tld__map_open(tldtool_map_path(t));
	if (fd < 0)
		return TLDTOOL_ERROR;
	close(fd);
	top.rows = calloc(TOP_MAX_ROWS, sizeof(*top.rows));
	top.prev_ns = calloc(65536, sizeof(*top.prev_ns));
	err = top.rows && top.prev_ns ? top_load(&top, tldtool_map_path(t)) : -ENOMEM;
	for (round = 0; !err && (!t->iterations || round < t->iterations); round++) {
		ts.tv_sec = interval;
		ts.tv_nsec = (interval - ts.tv_sec) * 1e9;
		nanosleep(&ts, NULL);
		top.nrows = top.total = 0;
		err = tldtool_dump(tldtool_map_path(t), 0, top_collect, &top);
		if (!err)
			top_print(&top, interval, round, t->by);
	}
	tld_top_bpf__destroy(top.skel);
	free(top.rows);
	free(top.prev_ns);
	if (err == -EPERM) {
		tldtool_err(err, "tldtool top needs CAP_BPF and CAP_PERFMON (run as root)");
		return TLDTOOL_PERM;
	}
	return err ? tldtool_err(err, "tldtool top") : TLDTOOL_OK;
}
