// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * scx_tld: load the scheduler, print what it did every interval, and
 * unload it on SIGINT or SIGTERM, after DURATION seconds if given, or when
 * the kernel ejects it.
 *
 *	scx_tld [-i INTERVAL] [-d DURATION]
 *
 * The tld map must exist (tldtool map create); the scheduler reuses it.
 * If the agent store exists too (tldtool agent create), it accounts into
 * the store's task records and applies the balancer's placements.
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
#include "scx_tld.h"
#include "scx_tld.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_stats(const struct scx_tld_stats *s)
{
	int c;

	printf("enqueued:");
	for (c = 0; c < SCX_TLD_CLASSES; c++)
		printf(" %s %llu", scx_tld_class_name(c), (unsigned long long)s->enqueued[c]);
	printf("; direct %llu, placed %llu, preempt kicks %llu, tasks %llu in %llu out\n",
	       (unsigned long long)s->direct, (unsigned long long)s->placed,
	       (unsigned long long)s->preempt_kicks,
	       (unsigned long long)s->init_tasks, (unsigned long long)s->exit_tasks);
	fflush(stdout);
}

/*
 * Reuse the agent store if there is one, with a domain per online CPU;
 * else the store's maps are made empty for this scheduler alone.
 */
static int scx_tld_use_store(struct scx_tld_bpf *skel)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (tld_loader_reuse_agent(skel->obj, NULL))
		return -ENOENT;
	skel->rodata->nr_doms = cpus < BAL_MAX_DOMS ? cpus : BAL_MAX_DOMS;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: scx_tld [-i INTERVAL] [-d DURATION]\n");
	return 2;
}

static int run(struct scx_tld_bpf *skel, int interval, int duration)
{
	struct bpf_link *link;
	time_t end = duration ? time(NULL) + duration : 0;

	link = bpf_map__attach_struct_ops(skel->maps.scx_tld_ops);
	if (!link) {
		fprintf(stderr, "scx_tld: attach: %s (is sched_ext in this kernel, and no other scheduler loaded?)\n",
			strerror(errno));
		return 1;
	}
	printf("scx_tld: scheduling; latency nice is read from '%s'\n", SCX_TLD_NICE_KEY);
	while (!stop && !skel->bss->exit_info.kind && (!end || time(NULL) < end)) {
		sleep(interval);
		print_stats(&skel->bss->stats);
	}
	bpf_link__destroy(link);
	if (skel->bss->exit_info.kind)
		printf("scx_tld: stopped by the kernel: %s %s\n", skel->bss->exit_info.reason,
		       skel->bss->exit_info.msg);
	return 0;
}

int main(int argc, char **argv)
{
	int interval = 1, duration = 0, opt, err;
	struct scx_tld_bpf *skel;

	while ((opt = getopt(argc, argv, "i:d:h")) != -1) {
		switch (opt) {
		case 'i':
			interval = atoi(optarg);
			break;
		case 'd':
			duration = atoi(optarg);
			break;
		default:
			return usage();
		}
	}
	if (interval < 1 || duration < 0)
		return usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	skel = scx_tld_bpf__open();
	if (!skel) {
		fprintf(stderr, "scx_tld: open: %s\n", strerror(errno));
		return 1;
	}
	err = tld_loader_reuse_map(skel->obj, NULL);
	if (!err && scx_tld_use_store(skel))
		fprintf(stderr, "scx_tld: no agent store; no accounting, no placements\n");
	if (err)
		fprintf(stderr, "scx_tld: no tld map at %s (%s): create it with 'tldtool map create'\n",
			tld_loader_map_path(NULL), strerror(-err));
	else if ((err = scx_tld_bpf__load(skel)))
		fprintf(stderr, "scx_tld: load: %s\n", strerror(-err));
	else
		err = run(skel, interval, duration);
	scx_tld_bpf__destroy(skel);
	return err ? 1 : 0;
}
