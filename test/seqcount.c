// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Consistent multi-field updates: a value written between
 * tld_update_begin() and tld_update_end() and read by BPF with
 * tld_read_seq().
 *
 * A writer stopped halfway: this thread begins an update, sets four of the
 * seven words, and has BPF read the value from inside a system call, so
 * nothing moves during the read. tld_read_seq() must give up with -EBUSY,
 * while a plain copy of the same bytes at the same moment is torn: that is
 * what the protocol is for, and what a reader that ignored the odd count
 * would return. Before and after the update, tld_read_seq() must copy
 * exactly what was written. A key that is absent, or smaller than the
 * reader's struct, is -ENOENT. These outcomes do not depend on timing;
 * make mutate drops the odd count from tld_update_begin() and the read
 * mid-update returns the torn copy.
 *
 * Then a writer on CPU 0 rewrites the value as fast as it can while BPF,
 * triggered from CPU 1, reads it a million times: every read copies or
 * gives up, and no copy may be torn. How many give up is a matter of
 * timing, and only printed.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <tld/loader.h>

#include "bpf/seq.h"
#include "harness.h"
#include "seq.skel.h"

#define SAMPLES		1000000

TLD_DEFINE_KEY(blob_key, "seq.blob", sizeof(struct th_seq_blob));
/* Too small for struct th_seq_blob: tld_read_seq() must not take it. */
TLD_DEFINE_KEY(small_key, "seq.small", sizeof(struct th_seq_blob) - 8);

static struct seq_bpf *skel;
static pthread_barrier_t started;
static volatile bool stop;
static pid_t writer_tid;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The blob as written: its first @fresh words @n, the others @n - 1. */
static struct th_seq_blob blob(__u32 seq, int fresh, __u64 n)
{
	struct th_seq_blob b = { .seq.seq = seq };
	int i;

	for (i = 0; i < 7; i++)
		b.w[i] = i < fresh ? n : n - 1;
	return b;
}

/*
 * Have BPF read this thread's blob @how: it must return @err, and with 0
 * copy exactly @want. A read the kernel skipped (see TH_ACKS) is asked for
 * again; the value does not change meanwhile.
 */
static void check_read(enum th_seq_how how, int err, const struct th_seq_blob *want,
		       const char *when)
{
	__u64 reads = skel->bss->reads;
	int tries;

	for (tries = 0; skel->bss->reads == reads; tries++) {
		if (tries == 1000)
			th_fatal("%s: BPF did not run for 1000 calls", when);
		syscall(SYS_getpgid, TH_SEQ_ARG(how, th_gettid()));
	}
	if (TH_CHECK(skel->bss->err == err, "%s: read %d, want %d", when, skel->bss->err, err) &&
	    !err)
		TH_CHECK(!memcmp(&skel->bss->copy, want, sizeof(*want)),
			 "%s: copied seq %u, words %llu..%llu", when, skel->bss->copy.seq.seq,
			 skel->bss->copy.w[0], skel->bss->copy.w[6]);
}

static void stopped_writer(void)
{
	struct th_seq_blob *b = tld_get_data(blob_key), want;
	__u32 seq = b->seq.seq;
	int i;

	tld_update_begin(&b->seq);
	for (i = 0; i < 7; i++)
		b->w[i] = 1;
	tld_update_end(&b->seq);
	want = blob(seq + 2, 7, 1);
	check_read(TH_SEQ_READ, 0, &want, "after an update");

	tld_update_begin(&b->seq);
	for (i = 0; i < 4; i++)
		b->w[i] = 2;
	check_read(TH_SEQ_READ, -EBUSY, NULL, "mid-update");
	want = blob(seq + 3, 4, 2);
	check_read(TH_SEQ_COPY, 0, &want, "a plain copy mid-update");
	for (; i < 7; i++)
		b->w[i] = 2;
	tld_update_end(&b->seq);
	want = blob(seq + 4, 7, 2);
	check_read(TH_SEQ_READ, 0, &want, "after the update ended");

	check_read(TH_SEQ_SMALL, -ENOENT, NULL, "a key smaller than the reader's struct");
	check_read(TH_SEQ_ABSENT, -ENOENT, NULL, "an absent key");
}

static void *writer(void *arg)
{
	struct th_seq_blob *b = tld_get_data(blob_key);
	volatile __u64 *w = b->w;
	__u64 n = 0;
	int i;

	(void)arg;
	pin(0);
	writer_tid = th_gettid();
	pthread_barrier_wait(&started);
	while (!stop) {
		n++;
		tld_update_begin(&b->seq);
		for (i = 0; i < 7; i++)
			w[i] = n;
		tld_update_end(&b->seq);
	}
	return NULL;
}

static void racing_writer(void)
{
	pthread_t t;
	int i;

	pin(1);
	skel->bss->reads = skel->bss->copies = skel->bss->busy = skel->bss->torn = 0;
	pthread_barrier_init(&started, NULL, 2);
	pthread_create(&t, NULL, writer, NULL);
	pthread_barrier_wait(&started);
	for (i = 0; i < SAMPLES; i++)
		syscall(SYS_getpgid, TH_SEQ_ARG(TH_SEQ_READ, writer_tid));
	stop = true;
	pthread_join(t, NULL);
	pthread_barrier_destroy(&started);
	printf("writer at full speed on another CPU: %llu reads, %llu copied, %llu gave up, %llu torn\n",
	       skel->bss->reads, skel->bss->copies, skel->bss->busy, skel->bss->torn);
	TH_CHECK(skel->bss->copies + skel->bss->busy == skel->bss->reads,
		 "%llu reads failed otherwise (the last: %d)",
		 skel->bss->reads - skel->bss->copies - skel->bss->busy, skel->bss->err);
	TH_CHECK(skel->bss->torn == 0, "%llu torn reads with the protocol", skel->bss->torn);
}

int main(void)
{
	struct th_map map;
	int err;

	th_map_create(&map, NULL);
	skel = seq_bpf__open();
	if (skel)
		skel->rodata->tgid = getpid();
	err = skel ? tld_loader_load_skeleton(skel->skeleton, NULL) : -1;
	if (err)
		th_fatal("load the reader: %d", err);

	stopped_writer();
	racing_writer();

	seq_bpf__destroy(skel);
	th_map_remove(&map);
	th_done();
}
