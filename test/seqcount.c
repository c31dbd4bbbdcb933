// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Consistent multi-field updates. One thread, on CPU 0, rewrites a 64-byte
 * value whose words must all be equal; BPF, triggered from CPU 1, samples
 * it a million times.
 *
 * Written as fast as the CPU allows between tld_update_begin() and
 * tld_update_end() and read with tld_read_seq(), no sample may be torn. A
 * writer that never pauses makes most reads give up (they report -EBUSY),
 * so the check also demands enough consistent samples to mean something
 * (0.1%: under ASan the writer spends nearly all its time mid-update).
 * Updated once a microsecond (far more often than hints change at request
 * boundaries), under 10% of reads may give up (here about 0.01%; 3% under
 * the VM tests' emulated CPU, where a microsecond is few instructions).
 *
 * The same full-speed run with plain stores and a plain copy must show torn
 * samples: that is how this test is known to be able to fail. make mutate
 * also drops the odd count from tld_update_begin(), and torn reads appear.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <tld/loader.h>

#include "harness.h"
#include "seq.skel.h"

#define SAMPLES		1000000

struct seq_blob {
	struct tld_seq seq;
	__u64 w[7];
};

TLD_DEFINE_KEY(seq_key, "seq.blob", sizeof(struct seq_blob));
TLD_DEFINE_KEY(plain_key, "plain.blob", 8 * sizeof(__u64));

static struct seq_bpf *skel;
static pthread_barrier_t started;
static volatile bool stop;
static bool protected;
static long pause_ns;
static pid_t writer_tid;

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000l + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *writer(void *arg)
{
	struct seq_blob *s = tld_get_data(seq_key);
	volatile __u64 *plain = tld_get_data(plain_key);
	volatile __u64 *w = s->w;
	__u64 n = 0;
	int i;

	(void)arg;
	pin(0);
	writer_tid = th_gettid();
	pthread_barrier_wait(&started);
	while (!stop) {
		n++;
		if (protected) {
			tld_update_begin(&s->seq);
			for (i = 0; i < 7; i++)
				w[i] = n;
			tld_update_end(&s->seq);
		} else {
			for (i = 0; i < 8; i++)
				plain[i] = n;
		}
		if (pause_ns)
			for (long until = now_ns() + pause_ns; now_ns() < until;)
				;
	}
	return NULL;
}

static void run(bool with_protocol, long pause)
{
	pthread_t t;
	long arg;
	int i;

	protected = with_protocol;
	pause_ns = pause;
	stop = false;
	skel->bss->samples = skel->bss->torn = skel->bss->busy = skel->bss->missing = 0;
	pthread_barrier_init(&started, NULL, 2);
	pthread_create(&t, NULL, writer, NULL);
	pthread_barrier_wait(&started);
	arg = TH_SEQ_MAGIC << 32 | (with_protocol ? 0x80000000u : 0) | writer_tid;
	for (i = 0; i < SAMPLES; i++)
		syscall(SYS_getpgid, arg);
	stop = true;
	pthread_join(t, NULL);
	pthread_barrier_destroy(&started);
	printf("%s, writer %s: %llu samples, %llu torn, %llu gave up (writer busy), %llu missing\n",
	       with_protocol ? "tld_update_begin/end + tld_read_seq" : "plain stores + plain copy",
	       pause ? "every 1 us" : "at full speed", skel->bss->samples, skel->bss->torn, skel->bss->busy, skel->bss->missing);
}

int main(void)
{
	struct th_map map;
	int err;

	th_map_create(&map, NULL);
	skel = seq_bpf__open();
	err = skel ? tld_loader_load_skeleton(skel->skeleton, NULL) : -1;
	if (err)
		th_fatal("load the sampler: %d", err);
	pin(1);

	run(true, 0);
	TH_CHECK(skel->bss->missing == 0, "the value was not found");
	TH_CHECK(skel->bss->samples + skel->bss->busy == SAMPLES, "%llu samples",
		 skel->bss->samples + skel->bss->busy);
	TH_CHECK(skel->bss->torn == 0, "%llu torn reads with the protocol", skel->bss->torn);
	TH_CHECK(skel->bss->samples >= SAMPLES / 1000, "only %llu consistent samples",
		 skel->bss->samples);

	run(true, 1000);
	TH_CHECK(skel->bss->torn == 0, "%llu torn reads with the protocol", skel->bss->torn);
	TH_CHECK(skel->bss->busy < SAMPLES / 10, "%llu reads gave up", skel->bss->busy);

	run(false, 0);
	TH_CHECK(skel->bss->torn > 0, "no torn read without the protocol: the test cannot fail");

	seq_bpf__destroy(skel);
	th_map_remove(&map);
	th_done();
}
