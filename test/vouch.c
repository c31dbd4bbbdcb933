// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One vouch per registration (TLD_COOKIE_VOUCHED): a thread commits
 * without announcing, and announces only where the commit did not flip its
 * cookie. Probes on libtld's tld__vouch() count the calls (test/bpf/vouch.bpf.c);
 * threads register one at a time, and BPF must read each one's value
 * through tld.bpf.h, which reads only vouched entries.
 *
 * 1. The main thread announces: its update is read back once (the __uptr
 *    check). Then 8 threads announce exactly as often as a commit went
 *    unflipped (a real sweep that beat it: rare, and then announced).
 * 2. A sweep that beats the commit, forced: the probe deletes the entry
 *    as COMMIT starts. The thread must announce and attach again, and be read.
 * 3. A guard that does not flip, played by undoing one flip: that thread
 *    is read (its entry stands), and the process announces from then on.
 *
 * Checked to fail (make mutate): a fallback that gives up instead of
 * attaching again (2: BPF reads nothing); one that does not switch the
 * process to announcing (3: the later threads do not announce); libtld
 * announcing always (1).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <tld/loader.h>

#include "harness.h"
#include "bpf/vouch.h"
#include "reader.skel.h"
#include "vouch.skel.h"

#define NTHREADS	8

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct reader_bpf *reader;
static struct vouch_bpf *probes;

/* Register a thread, store @value, and check BPF reads it. */
static void *registered(void *arg)
{
	__u64 *p = tld_get_data(static_key), value = (__u64)(long)arg;
	pid_t tid = gettid();
	struct th_result r;

	if (!TH_CHECK(p, "thread %d has no data", tid))
		return NULL;
	*p = value;
	th_mark(0);
	TH_CHECK(th_result(reader, tid, &r) && !r.init_err && r.off[TH_STATIC] > 0 &&
		 r.head[TH_STATIC] == value,
		 "BPF did not read thread %d's %llu (init_err %d)", tid,
		 (unsigned long long)value, th_result(reader, tid, &r) ? r.init_err : 1);
	return NULL;
}

static void thread_run(long value)
{
	pthread_t t;

	pthread_create(&t, NULL, registered, (void *)value);
	pthread_join(t, NULL);
}

static void probes_attach(void)
{
	LIBBPF_OPTS(bpf_uprobe_opts, in, .func_name = "tld__vouch");
	LIBBPF_OPTS(bpf_uprobe_opts, out, .func_name = "tld__vouch", .retprobe = true);
	Dl_info info;
	int err;

	probes = vouch_bpf__open();
	if (!probes)
		th_fatal("open the probes: %s", strerror(errno));
	probes->bss->tgid = getpid();
	err = tld_loader_load_skeleton(probes->skeleton, NULL);
	if (err)
		th_fatal("load the probes: %s", strerror(-err));
	if (!dladdr(dlsym(RTLD_DEFAULT, "tld_create_key"), &info))
		th_fatal("dladdr: where is libtld?");
	probes->links.th_vouch_enter = bpf_program__attach_uprobe_opts(
		probes->progs.th_vouch_enter, getpid(), info.dli_fname, 0, &in);
	probes->links.th_vouch_exit = bpf_program__attach_uprobe_opts(
		probes->progs.th_vouch_exit, getpid(), info.dli_fname, 0, &out);
	if (!probes->links.th_vouch_enter || !probes->links.th_vouch_exit)
		th_fatal("uprobes on %s:tld__vouch: %s", info.dli_fname, strerror(errno));
}

int main(void)
{
	struct th_vouch_counts c, was;
	struct th_map map;
	int i;

	th_map_create(&map, NULL);
	reader = th_reader_load();
	probes_attach();
	c = probes->bss->counts;

	registered((void *)1L);
	was = c;
	c = probes->bss->counts;
	TH_CHECK(c.announced - was.announced == 1 && c.committed - was.committed == 1,
		 "the main thread announced %llu and committed %llu times, not once each",
		 c.announced - was.announced, c.committed - was.committed);

	for (i = 0; i < NTHREADS; i++)
		thread_run(100 + i);
	was = c;
	c = probes->bss->counts;
	printf("%d threads: %llu commits, %llu flipped, %llu announced\n", NTHREADS,
	       c.committed - was.committed, c.flipped - was.flipped, c.announced - was.announced);
	TH_CHECK(c.announced - was.announced == (c.committed - was.committed) - (c.flipped - was.flipped),
		 "%llu announcements for %llu unflipped commits",
		 c.announced - was.announced, (c.committed - was.committed) - (c.flipped - was.flipped));
	TH_CHECK(c.flipped - was.flipped == NTHREADS, "%llu of %d threads' commits flipped",
		 c.flipped - was.flipped, NTHREADS);

	probes->bss->sweep_next = 1;
	thread_run(200);
	was = c;
	c = probes->bss->counts;
	TH_CHECK(c.swept - was.swept == 1, "the probe swept %llu entries", c.swept - was.swept);
	TH_CHECK(c.announced - was.announced == 1 && c.committed - was.committed == 2,
		 "a swept thread announced %llu times and committed %llu, not 1 and 2",
		 c.announced - was.announced, c.committed - was.committed);

	probes->bss->unflip_next = 1;
	thread_run(300);
	for (i = 0; i < 3; i++)
		thread_run(400 + i);
	was = c;
	c = probes->bss->counts;
	TH_CHECK(c.unflipped - was.unflipped == 1, "the probe undid %llu flips",
		 c.unflipped - was.unflipped);
	TH_CHECK(c.announced - was.announced == 3 && c.committed - was.committed == 4,
		 "after a commit left unflipped, 3 threads announced %llu times (commits %llu of 4)",
		 c.announced - was.announced, c.committed - was.committed);

	vouch_bpf__destroy(probes);
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
