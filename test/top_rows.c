// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool top with more threads than it keeps rows for, and with an entry
 * nobody vouched for. 4,100 threads register a class hint (0, 1 or 2) and
 * sleep; the first one's entry is then replaced, as an attacker would, by
 * pages claiming class 99, which the guard cannot sweep while it sleeps.
 * top must say how many threads there are and how many it shows, mark the
 * replaced row NOT VOUCHED, and charge no CPU time to class 99.
 *
 * Checked to fail: before 2026-12-07 top said "4096 threads", marked
 * nothing, and listed class 99 among the hint values.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"

#define NTHREADS	4100

TLD_DEFINE_KEY(class_key, "top.class:u32", sizeof(__u32));

static pthread_barrier_t in, out;
static pid_t first_tid;
static int asleep[2];

/*
 * Thread 0 sleeps in read() until the end: a woken thread's unvouched
 * entry is swept, and a barrier wakes its waiters before they sleep again.
 */
static void *member(void *arg)
{
	__u32 *v = tld_get_data(class_key);
	char c;

	if (v)
		*v = (long)arg % 3;
	if (!arg)
		first_tid = th_gettid();
	pthread_barrier_wait(&in);
	if (!arg && read(asleep[0], &c, 1) < 0)
		th_fatal("read: %m");
	else if (arg)
		pthread_barrier_wait(&out);
	return NULL;
}

/* Until @tid is blocked in read(2) ("0 ..." in its syscall file). */
static void wait_asleep(pid_t tid)
{
	char path[64], line[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	for (;;) {
		f = fopen(path, "r");
		if (!f || !fgets(line, sizeof(line), f))
			th_fatal("%s: %m", path);
		fclose(f);
		if (!strncmp(line, "0 ", 2))
			return;
		sched_yield();
	}
}

/* Replace @tid's entry with pages of ours claiming class 99, unvouched. */
static void replace(pid_t tid)
{
	struct tld_meta_u *meta = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct tld_data_u *data = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct tld_map_value v = { .data = data, .meta = meta, .start = TLD_DATA_HDR };
	int map_fd = bpf_obj_get(getenv("TLD_MAP_PATH"));
	int pidfd = syscall(SYS_pidfd_open, tid, O_EXCL);

	strcpy(meta->metadata[0].name, "top.class:u32");
	meta->metadata[0].size = 4;
	meta->cnt = 1;
	*(__u32 *)data->data = 99;
	if (map_fd < 0 || pidfd < 0 || bpf_map_update_elem(map_fd, &pidfd, &v, 0))
		th_fatal("replace thread %d's entry: %m", tid);
}

int main(void)
{
	static pthread_t t[NTHREADS];
	size_t len = 4 << 20;
	char *text = malloc(len), want[64], *row, *groups;
	struct th_map map;
	long i;

	th_map_create(&map, NULL);
	if (pipe(asleep))
		th_fatal("pipe: %m");
	pthread_barrier_init(&in, NULL, NTHREADS + 1);
	pthread_barrier_init(&out, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, member, (void *)i))
			th_fatal("thread %ld: %m", i);
	pthread_barrier_wait(&in);
	wait_asleep(first_tid);
	replace(first_tid);

	if (th_tldtool("top --interval 0.1 --iterations 1", text, len))
		th_fatal("tldtool top: %.300s", text);
	snprintf(want, sizeof(want), "%d threads with tld data", NTHREADS);
	TH_CHECK(strstr(text, want) && strstr(text, "(the first 4096 shown)"),
		 "top's header: %.200s", text);
	snprintf(want, sizeof(want), "\n%-8d ", first_tid);
	row = strstr(text, want);
	TH_CHECK(row && strstr(row, "top.class:u32=99  [NOT VOUCHED]") ==
			       strchr(row + 1, '\n') - strlen("top.class:u32=99  [NOT VOUCHED]"),
		 "the replaced thread's row: %.120s", row ? row : "(none)");
	groups = strstr(text, "CPU time by hint value");
	TH_CHECK(groups && strstr(groups, "top.class:u32=1 ") && !strstr(groups, "=99 "),
		 "hint values: %.300s", groups ? groups : "(none)");

	pthread_barrier_wait(&out);
	if (write(asleep[1], "x", 1) != 1)
		th_fatal("write: %m");
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	free(text);
	th_map_remove(&map);
	th_done();
}
