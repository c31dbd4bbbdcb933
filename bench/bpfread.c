// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Group 2: BPF run time, from kernel.bpf_stats (run_time_ns over run_cnt),
 * each program on a uprobe of its own trigger function, called the same
 * number of times. Per run: one read, with the program's entry and
 * bpf_stats' clock reads in it. Per read: READS reads in a run, less an
 * empty loop's run, over READS. This thread has 63 keys; its hint is the
 * first.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tld/loader.h>

#include "stats.h"
#include "bpf/read.h"
#include "read.skel.h"
#include "read_upstream.skel.h"

#define CALLS	50000

TLD_DEFINE_KEY(hint_key, "bench.hint", sizeof(__u64));

/* One per program; distinct bodies, so that no two are folded into one. */
#define TRIGGER(name)							\
	__attribute__((noinline, used)) void bench_trigger_##name(void)	\
	{								\
		asm volatile("" ::: "memory");				\
		__asm__ volatile("nop; # " #name);			\
	}
TRIGGER(bare)
TRIGGER(tld)
TRIGGER(hash)
TRIGGER(uncached)
TRIGGER(upstream)
TRIGGER(empty)
TRIGGER(bare_n)
TRIGGER(tld_n)
TRIGGER(hash_n)
TRIGGER(upstream_n)

struct subject {
	const char *name;
	const char *func;
	struct bpf_program *prog;
	void (*trigger)(void);
	double ns[BENCH_REPS];
};

static void attach(struct bpf_program *prog, const char *func)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func);

	if (!bpf_program__attach_uprobe_opts(prog, getpid(), "/proc/self/exe", 0, &opts)) {
		fprintf(stderr, "bpfread: attach %s: %m\n", func);
		exit(1);
	}
}

static void run_time(struct bpf_program *prog, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	bpf_prog_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

static double measure(struct subject *s)
{
	__u64 ns0, cnt0, ns1, cnt1;
	int i;

	run_time(s->prog, &ns0, &cnt0);
	for (i = 0; i < CALLS; i++)
		s->trigger();
	run_time(s->prog, &ns1, &cnt1);
	return cnt1 > cnt0 ? (double)(ns1 - ns0) / (cnt1 - cnt0) : -1;
}

#define SUBJECT(name, skel, prog)						\
	{ name, "bench_trigger_" #prog, (skel)->progs.read_##prog, bench_trigger_##prog }

static void run_all(struct read_bpf *rd, struct read_upstream_bpf *up)
{
	struct subject subjects[] = {
		SUBJECT("read.bare", rd, bare),
		SUBJECT("read.tld", rd, tld),
		SUBJECT("read.upstream", up, upstream),
		SUBJECT("read.hash", rd, hash),
		SUBJECT("read.uncached", rd, uncached),
		/* READS reads a run; the empty loop first, the others less it. */
		SUBJECT("read.empty", rd, empty),
		SUBJECT("read.bare_per_read", rd, bare_n),
		SUBJECT("read.tld_per_read", rd, tld_n),
		SUBJECT("read.upstream_per_read", up, upstream_n),
		SUBJECT("read.hash_per_read", rd, hash_n),
	};
	const int n = sizeof(subjects) / sizeof(subjects[0]), empty = 5;
	int i, r;

	for (i = 0; i < n; i++)
		attach(subjects[i].prog, subjects[i].func);
	for (r = 0; r < BENCH_REPS; r++)
		for (i = 0; i < n; i++) {
			subjects[i].ns[r] = measure(&subjects[i]);
			if (i > empty)
				subjects[i].ns[r] = (subjects[i].ns[r] - subjects[empty].ns[r]) / READS;
		}
	for (i = 0; i < n; i++)
		bench_report(subjects[i].name, subjects[i].ns, BENCH_REPS, "ns");
}

int main(void)
{
	struct read_upstream_bpf *up = read_upstream_bpf__open();
	struct read_bpf *rd = read_bpf__open();
	int stats_fd, i, err;
	__u64 *hint = tld_get_data(hint_key), v = 42;
	__u32 tid = gettid();
	char name[8];

	for (i = 1; i < 63; i++) {
		snprintf(name, sizeof(name), "k%02d", i);
		tld_create_key(name, 8);
	}
	err = !hint || !rd || !up || tld_loader_reuse_map(rd->obj, NULL) ||
	      tld_loader_reuse_map(up->obj, NULL) || read_bpf__load(rd) ||
	      read_upstream_bpf__load(up);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (err || stats_fd < 0) {
		fprintf(stderr, "bpfread: cannot load the readers or enable bpf_stats\n");
		return 1;
	}
	*hint = v;
	bpf_map__update_elem(rd->maps.hints_by_pid, &tid, sizeof(tid), &v, sizeof(v), 0);
	run_all(rd, up);
	err = !rd->bss->sum || !up->bss->sum;
	if (err)
		fprintf(stderr, "bpfread: a reader read nothing\n");
	close(stats_fd);
	read_bpf__destroy(rd);
	read_upstream_bpf__destroy(up);
	return err;
}
