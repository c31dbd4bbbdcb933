// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * balancer: a central agent in the manner of Atropos and scx_rusty's load
 * balancer, on the agent store (balance.h). Every interval it runs the
 * store's maintenance, scans every task's record, and moves tasks from the
 * busiest CPU to the idlest by writing their placements, which scx_tld
 * applies at each task's next enqueue.
 *
 *	balancer [-i MS] [-n PASSES] [-t]
 *
 * -t loads balance_trace.bpf.c, the accounting for kernels without
 * sched_ext (where nothing applies the placements); under scx_tld the
 * scheduler accounts. The store must exist: tldtool agent create.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <tld/loader.h>

#include "balance.h"
#include "balance_trace.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: balancer [-i MS] [-n PASSES] [-t]\n");
	return 2;
}

static struct balance_trace_bpf *trace_load(int ncpus)
{
	struct balance_trace_bpf *skel = balance_trace_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "balancer: open the tracing consumer: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->ncpus = ncpus;
	err = tld_loader_reuse_agent(skel->obj, NULL);
	if (!err)
		err = balance_trace_bpf__load(skel);
	if (!err)
		err = balance_trace_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "balancer: load the tracing consumer: %s\n", strerror(-err));
		balance_trace_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static void print_pass(int n, const struct bal_pass *p, int ndoms)
{
	int d;

	printf("pass %d: %d tasks, %d busy, %d moved; load", n, p->tasks, p->busy, p->moved);
	for (d = 0; d < ndoms; d++)
		printf(" cpu%d %.2f", d, (double)p->dom_load[d] / BAL_ONE);
	printf("\n");
	fflush(stdout);
}

static int run(struct balancer *b, int interval_ms, int passes)
{
	struct timespec pause = { interval_ms / 1000, interval_ms % 1000 * 1000000L };
	struct bal_pass p;
	int n, err;

	for (n = 1; !stop && (!passes || n <= passes); n++) {
		nanosleep(&pause, NULL);
		err = tld_agent_maintain(b->agent);
		if (!err)
			err = bal_run(b, &p);
		if (err) {
			fprintf(stderr, "balancer: pass %d: %s\n", n, strerror(-err));
			return 1;
		}
		print_pass(n, &p, b->ndoms);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int interval = 500, passes = 0, trace = 0, opt, err, ndoms;
	struct balance_trace_bpf *skel = NULL;
	struct tld_agent *a;
	struct balancer b;

	while ((opt = getopt(argc, argv, "i:n:th")) != -1) {
		switch (opt) {
		case 'i':
			interval = atoi(optarg);
			break;
		case 'n':
			passes = atoi(optarg);
			break;
		case 't':
			trace = 1;
			break;
		default:
			return usage();
		}
	}
	if (interval < 1 || passes < 0)
		return usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ndoms = sysconf(_SC_NPROCESSORS_ONLN);
	if (ndoms > BAL_MAX_DOMS)
		ndoms = BAL_MAX_DOMS;

	err = tld_agent_open(NULL, &a);
	if (err)
		return 1;	/* libtld said why */
	err = bal_init(&b, a, ndoms);
	if (err) {
		fprintf(stderr, "balancer: %s (the store's task records must hold %zu bytes: tldtool agent create --task-size %zu)\n",
			strerror(-err), sizeof(struct bal_task), sizeof(struct bal_task));
		goto out;
	}
	if (trace && !(skel = trace_load(ndoms))) {
		err = -1;
		goto out_bal;
	}
	err = run(&b, interval, passes);
	balance_trace_bpf__destroy(skel);
out_bal:
	bal_fini(&b);
out:
	tld_agent_close(a);
	return err ? 1 : 0;
}
