// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent store written with garbage, as a buggy or hostile agent could
 * write it: the header, the indexes, page headers, free lists, record
 * headers and payloads. Between rounds of garbage, threads are made and
 * exit (the keeper's hooks take and give slots over the garbage),
 * maintenance runs, the agent API looks up, scans and reads, and tldtool
 * opens the store anew and shows it.
 *
 * Nothing crashes (the ASan build checks libtld's reads too), nothing
 * hangs (every call returns, a scan ends within the index's bound), and
 * tldtool either shows the store or says what is wrong with it. BPF cannot
 * leave the arena or loop unboundedly by construction (the verifier); what
 * is checked here is that the keeper's programs keep returning. A new store
 * made afterwards works. $TLD_SEED replays a run.
 *
 * Checked to fail: with tld_agent_rec()'s slot checks removed from
 * src/agent.c, the ASan build reports reads outside the arena's mapping,
 * and the plain build faults.
 */
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tld/agent.h>

#include "harness.h"

#define ROUNDS		600
#define WRITES		48
#define THREADS		16

static struct tld_agent *agent;
static char dir[160];
static __u64 rng;

/* The store's shape, read before any garbage. */
static __u32 data_off, top_off;
static __u32 index_off[TLD_AGENT_KINDS], index_len[TLD_AGENT_KINDS];
/* Pages that held records before the garbage: allocated, so safe to write. */
static __u32 pages[512];
static int npages;

static __u64 next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void *at(__u32 off)
{
	return (void *)(TLD_AGENT_ADDR + off);
}

/* A value that looks like an offset the keeper or libtld might follow, or not. */
static __u32 garbage(void)
{
	switch (next_rand() % 6) {
	case 0:
		return 0;
	case 1:
		return TLD_AGENT_TOMB;
	case 2:
		return (__u32)next_rand();
	case 3:	/* inside the data pages, maybe a slot */
		return data_off + (__u32)(next_rand() % (top_off - data_off + TLD_AGENT_PAGE));
	case 4:	/* a page start */
		return pages[next_rand() % npages];
	default:
		return ~0u - (__u32)(next_rand() % 64);
	}
}

static void scribble(void)
{
	__u32 off, page;

	switch (next_rand() % 4) {
	case 0:	/* the header page: counters, geometry, list heads */
		off = (__u32)(next_rand() % (TLD_AGENT_PAGE / 4)) * 4;
		break;
	case 1: {	/* an index bucket */
		int k = next_rand() % TLD_AGENT_KINDS;

		off = index_off[k] + (__u32)(next_rand() % (index_len[k] / 4)) * 4;
		break;
	}
	case 2:	/* a page header */
		page = pages[next_rand() % npages];
		off = page + (__u32)(next_rand() % (TLD_AGENT_PAGE_HDR / 4)) * 4;
		break;
	default:	/* anywhere in a record page: headers, free links, payloads */
		page = pages[next_rand() % npages];
		off = page + (__u32)(next_rand() % (TLD_AGENT_PAGE / 4)) * 4;
		break;
	}
	*(volatile __u32 *)at(off) = garbage();
}

static void *nothing(void *arg)
{
	return arg;
}

static void churn(void)
{
	pthread_t t[THREADS];
	int i;

	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, nothing, NULL))
			th_fatal("pthread_create: %m");
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

/* A scan ends within the store's bound, and what it returns reads. */
static void use(struct tld_agent *a, int round)
{
	char buf[64];
	struct tld_agent_ref ref;
	unsigned long pos = 0;
	long n = 0;
	int k;

	for (k = 0; k < TLD_AGENT_KINDS; k++) {
		pos = 0;
		while (tld_agent_next(a, k, &pos, &ref) && n < 4 * 65536 + 1) {
			n++;
			tld_agent_read(a, &ref, buf, 8);
			tld_agent_read_seq(a, &ref, 0, buf, 8);
			tld_agent_live(a, &ref);
		}
	}
	TH_CHECK(n <= 4 * 65536, "round %d: a scan returned more records than the store can hold", round);
	tld_agent_task(a, th_gettid(), &ref);
	tld_agent_task(a, (pid_t)next_rand(), NULL);
	tld_agent_cgroup(a, next_rand(), NULL);
}

static void show(int round)
{
	static const char *const args[] = { "agent show", "agent show -j", "agent show --tasks",
					     "agent show --cgroups -j" };
	char cmd[256], out[256];
	unsigned int i;
	int st;

	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		snprintf(cmd, sizeof(cmd), "--path %s %s >/dev/null", dir, args[i]);
		st = th_tldtool(cmd, out, sizeof(out));
		TH_CHECK(st == 0 || st == 1, "round %d: tldtool %s exited %d: %s", round, args[i],
			 st, out);
	}
}

/* Where the garbage may go: the header, the indexes, the record pages. */
static void survey(void)
{
	const struct tld_agent_hdr *h;
	struct tld_agent_ref ref;
	unsigned long pos;
	void *p;
	int k;

	churn();
	h = tld_agent_stats(agent);
	data_off = h->data;
	top_off = h->top;
	for (k = 0; k < TLD_AGENT_KINDS; k++) {
		index_off[k] = h->kind[k].index;
		index_len[k] = h->kind[k].buckets * 4;
		pos = 0;
		while ((p = tld_agent_next(agent, k, &pos, &ref)) && npages < 512) {
			__u32 page = (__u32)((__u64)p & ~(__u64)(TLD_AGENT_PAGE - 1));

			if (!npages || pages[npages - 1] != page)
				pages[npages++] = page;
		}
	}
	if (!npages)
		th_fatal("the store has no record pages");
}

/* After all of it, a store made anew works. */
static void check_fresh(void)
{
	struct tld_agent_ref ref;

	th_agent_remove(agent, dir);
	agent = th_agent_create(dir, "--max-records 4096");
	TH_CHECK(tld_agent_task(agent, getpid(), &ref) && ref.id == (__u64)getpid(),
		 "a store made after the garbage has no record of this process");
	th_agent_remove(agent, dir);
}

int main(void)
{
	const char *seed = getenv("TLD_SEED");
	int round, i;

	rng = seed ? strtoull(seed, NULL, 0) : (__u64)time(NULL) * 2654435761u | 1;
	printf("TLD_SEED=%llu\n", (unsigned long long)rng);
	fflush(stdout);
	alarm(600);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/tld-test/agent_garbage-%d", getpid());
	agent = th_agent_create(dir, "--max-records 4096 --reserve 64");
	survey();

	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < WRITES; i++)
			scribble();
		churn();
		TH_CHECK(tld_agent_maintain(agent) <= 0, "round %d: maintenance returned > 0", round);
		use(agent, round);
		if (round % 15 == 0)
			show(round);
	}
	check_fresh();
	th_done();
}
