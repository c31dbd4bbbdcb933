// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A reader's memo (the entry it last found vouched, tld.bpf.h) does not
 * outlive an exec, which may change who owns the task.
 *
 * A process of uid 60002 attaches pages of its own, shared with whoever it
 * forks, and vouches for them; the reader reads the task, so its memo names
 * those pages and their cookie. The process forks a child, which keeps the
 * pages, and the task execs a set-user-ID 60001 program. Once the exec has
 * removed the entry, the child (uid 60002, no right over the new image)
 * attaches the very same pages, carrying the same cookie, to that task. The
 * reader must refuse them (-EACCES), as a reader without a memo does.
 *
 * Found by review: without the exec count in the memo, the reader read the
 * child's value. Checked to fail: with tld_memo_hit() not comparing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "harness.h"
#include "reader.skel.h"

#define COOKIE		(0x1234567800000000ull | TLD_DATA_HDR)
#define LEGIT		1111
#define PLANTED		666
#define WAIT_TRIES	5000

static void *shared_page(void)
{
	void *p = mmap(NULL, TLD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The fork child: once the exec removed the task's entry, attach the pages again. */
static void plant_after_exec(int map_fd, pid_t tid, struct tld_map_value *v, int exec_done)
{
	__u64 value;
	int pidfd, i;
	char c;

	if (read(exec_done, &c, 1) != 0)	/* EOF: the task exec'd */
		_exit(5);
	pidfd = th_thread_pidfd(tid);
	for (i = 0; i < WAIT_TRIES && !bpf_map_lookup_elem(map_fd, &pidfd, &value); i++)
		usleep(1000);
	*(__u64 *)v->data->data = PLANTED;
	if (pidfd < 0 || i == WAIT_TRIES || bpf_map_update_elem(map_fd, &pidfd, v, 0))
		_exit(6);
	printf("planted %d\n", getpid());
	fflush(stdout);
	pause();
	_exit(0);
}

/* owner SUID: register shared pages, say the tid, and on a byte fork and exec SUID. */
static int owner_main(const char *suid)
{
	struct tld_meta_u *meta = shared_page();
	struct tld_data_u *data = shared_page();
	struct tld_map_value v = { .data = data, .meta = meta, .start = TLD_DATA_HDR };
	int map_fd = bpf_obj_get(getenv("TLD_MAP_PATH")), self, p[2];
	pid_t tid = th_gettid();
	char c;

	if (!meta || !data || map_fd < 0)
		return 2;
	strcpy(meta->metadata[0].name, "test.static");
	meta->metadata[0].size = 8;
	meta->cnt = 1;
	data->unused = COOKIE;
	*(__u64 *)data->data = LEGIT;
	self = th_thread_pidfd(tid);
	th_vouch(TLD_VOUCH_ANNOUNCE, COOKIE, tid);
	if (self < 0 || bpf_map_update_elem(map_fd, &self, &v, 0))
		return 3;
	th_vouch(TLD_VOUCH_COMMIT, COOKIE, tid);
	printf("%d\n", tid);
	fflush(stdout);
	if (read(0, &c, 1) != 1 || pipe2(p, O_CLOEXEC))
		return 4;
	if (!fork()) {
		close(p[1]);
		plant_after_exec(map_fd, tid, &v, p[0]);
	}
	close(p[0]);
	execl(suid, "sleep", "60", (char *)NULL);
	return 7;
}

static int euid_of(pid_t tid)
{
	char path[64], line[256];
	int ruid, euid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %d %d", &ruid, &euid) == 2)
			break;
	if (f)
		fclose(f);
	return euid;
}

static struct th_result read_task(struct reader_bpf *r, pid_t tid)
{
	struct th_result res = { 0 };

	th_mark(tid);
	th_result(r, tid, &res);
	return res;
}

int main(int argc, char **argv)
{
	struct th_result before, after;
	char suid[] = "/tmp/tld-memo-sleep.XXXXXX", cmd[200], line[64];
	struct reader_bpf *reader;
	struct th_map map;
	struct th_proc p;
	pid_t tid, child;
	FILE *out;
	int fd;

	if (argc == 3 && !strcmp(argv[1], "owner"))
		return owner_main(argv[2]);
	/* No sweep: the plant must stay until it is read, whenever the task runs. */
	th_map_create(&map, "--no-sweep");
	reader = th_reader_load();
	/* In /tmp: the VM tests see the build directory read-only. */
	fd = mkstemp(suid);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s && chown 60001:60001 %s && chmod 4755 %s",
		 suid, suid, suid);
	if (fd < 0 || close(fd) || th_run(cmd, NULL, 0))
		th_fatal("cannot make %s", suid);
	th_spawn(&p, 60002, (const char *const[]){ "memo", "owner", suid, NULL });
	out = fdopen(p.out, "r");
	if (!fgets(line, sizeof(line), out))
		th_fatal("the owner did not register");
	tid = atoi(line);
	before = read_task(reader, tid);
	TH_CHECK(!before.init_err && before.head[TH_STATIC] == LEGIT,
		 "the owner's vouched entry: init %d, value %llu", before.init_err,
		 before.head[TH_STATIC]);
	if (write(p.in, "g", 1) != 1 || !fgets(line, sizeof(line), out) ||
	    sscanf(line, "planted %d", &child) != 1)
		th_fatal("the fork child did not plant");
	TH_CHECK(euid_of(tid) == 60001, "the task runs as euid %d after the exec, not 60001",
		 euid_of(tid));
	after = read_task(reader, tid);
	TH_CHECK(after.init_err == -EACCES,
		 "after the set-user-ID exec, the old image's pages: init %d, value %llu (want -EACCES)",
		 after.init_err, after.head[TH_STATIC]);
	printf("before exec: %llu; after, the old pages attached again: init %d\n",
	       before.head[TH_STATIC], after.init_err);
	kill(child, SIGKILL);
	kill(tid, SIGKILL);
	waitpid(p.pid, NULL, 0);
	unlink(suid);
	th_reader_destroy(reader);
	th_map_remove(&map);
	th_done();
}
