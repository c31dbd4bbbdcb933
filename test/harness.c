// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <tld/loader.h>

#include "../bpf/tld_guard.h"
#include "harness.h"
#include "reader.skel.h"

_Static_assert(SYS_getpgid == TH_NR_GETPGID, "the reader watches getpgid");

static int th_failures;

bool th_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list args;

	if (ok)
		return true;
	__atomic_fetch_add(&th_failures, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "FAIL %s:%d: %s: ", file, line, expr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	return false;
}

void th_fatal(const char *fmt, ...)
{
	va_list args;

	fputs("FATAL: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	exit(1);
}

void th_skip(const char *fmt, ...)
{
	va_list args;

	fputs("SKIP: ", stdout);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	putchar('\n');
	exit(TH_EXIT_SKIP);
}

void th_done(void)
{
	exit(th_failures ? 1 : 0);
}

pid_t th_gettid(void)
{
	return syscall(SYS_gettid);
}

/* glibc before 2.39 does not name it */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

int th_thread_pidfd(pid_t tid)
{
	return syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
}

__u64 th_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void th_guard_state(const struct th_map *m, struct tld_guard_state *st)
{
	char path[sizeof(m->dir) + 32];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/tld_guard_state", m->dir);
	fd = bpf_obj_get(path);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, st))
		th_fatal("the guard's state at %s: %s", path, strerror(errno));
	close(fd);
}

void th_vouch(enum tld_vouch_op op, __u64 cookie, pid_t tid)
{
	char name[16] = "";

	prctl(PR_GET_NAME, name);
	prctl(PR_SET_NAME, name, TLD_VOUCH(op), cookie, (unsigned long)tid);
}

#define TH_WATCHED	4
static volatile __u32 *th_watched[TH_WATCHED];

void th_ack_watch(volatile __u32 *acks)
{
	int i;

	for (i = 0; i < TH_WATCHED && th_watched[i]; i++)
		;
	if (i == TH_WATCHED)
		th_fatal("more than %d readers to watch", TH_WATCHED);
	th_watched[i] = acks;
}

void th_ack_unwatch(volatile __u32 *acks)
{
	int i;

	for (i = 0; i < TH_WATCHED; i++)
		if (th_watched[i] == acks)
			th_watched[i] = NULL;
}

/* Whether every watched reader counted a mark since @before. */
static bool th_acked(const __u32 *before, __u32 slot)
{
	int i;

	for (i = 0; i < TH_WATCHED; i++)
		if (th_watched[i] && th_watched[i][slot] == before[i])
			return false;
	return true;
}

/* getpgid(@arg, @arg2), repeated until every watched reader counted it. */
static void th_mark_op(__u64 arg, __u64 arg2)
{
	__u32 slot = th_gettid() & (TH_ACKS - 1), before[TH_WATCHED];
	int i, tries;

	for (tries = 0; tries < 1000; tries++) {
		for (i = 0; i < TH_WATCHED; i++)
			before[i] = th_watched[i] ? th_watched[i][slot] : 0;
		syscall(SYS_getpgid, arg, arg2);
		if (th_acked(before, slot))
			return;
		sched_yield();
	}
	th_fatal("no reader ran for 1000 marks by thread %d", th_gettid());
}

void th_mark(pid_t tid)
{
	th_mark_op(TH_MAGIC << 32 | (__u32)tid, 0);
}

void th_store(__u64 value)
{
	th_mark_op(TH_STORE_MAGIC << 32, value);
}

const char *th_exe(void)
{
	static char exe[PATH_MAX];
	ssize_t n;

	if (exe[0])
		return exe;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		th_fatal("readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	return exe;
}

const char *th_build_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX];

	if (!dir[0]) {
		snprintf(exe, sizeof(exe), "%s", th_exe());
		snprintf(dir, sizeof(dir), "%s/..", dirname(exe));
	}
	return dir;
}

int th_run(const char *cmd, char *out, size_t out_len)
{
	char full[PATH_MAX + 1024];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		th_fatal("popen %s: %s", cmd, strerror(errno));
	if (out && out_len) {
		n = fread(out, 1, out_len - 1, p);
		out[n] = '\0';
	} else {
		while (fgetc(p) != EOF)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int th_tldtool(const char *args, char *out, size_t out_len)
{
	char cmd[PATH_MAX + 1024];

	snprintf(cmd, sizeof(cmd), "%s/tldtool %s", th_build_dir(), args);
	return th_run(cmd, out, out_len);
}

void th_map_name(struct th_map *m)
{
	snprintf(m->dir, sizeof(m->dir), "/sys/fs/bpf/tld-test/%s-%d",
		 program_invocation_short_name, getpid());
	snprintf(m->path, sizeof(m->path), "%s/tld_data_map", m->dir);
	setenv("TLD_MAP_PATH", m->path, 1);
}

void th_map_create(struct th_map *m, const char *tldtool_args)
{
	char args[512], out[1024];

	th_map_name(m);
	snprintf(args, sizeof(args), "--path %s map create %s", m->path,
		 tldtool_args ? tldtool_args : "");
	if (th_tldtool(args, out, sizeof(out)))
		th_fatal("tldtool %s: %s", args, out);
}

/* Everything tldtool pinned goes, so no test leaves its guard attached. */
void th_map_remove(struct th_map *m)
{
	char args[256];

	snprintf(args, sizeof(args), "--path %s map remove", m->path);
	if (th_tldtool(args, NULL, 0))
		th_fatal("tldtool %s failed", args);
	rmdir("/sys/fs/bpf/tld-test");
}

int th_task_storage_map(const char *name, const int *sizes, int n, int value_size)
{
	struct btf *btf = btf__new_empty();
	int int_id, val_id, type[8], fd, i, off = 0;
	char field[8];

	if (n > 8)
		th_fatal("th_task_storage_map: %d fields", n);
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	/* Members follow their struct, so their types come first. */
	for (i = 0; i < n; i++)
		type[i] = btf__add_int(btf, "uint", sizes[i], 0);
	val_id = btf__add_struct(btf, name, value_size);
	for (i = 0; i < n; off += sizes[i++]) {
		snprintf(field, sizeof(field), "f%d", i);
		btf__add_field(btf, field, type[i], off * 8, 0);
	}
	if (btf__load_into_kernel(btf)) {
		fd = -errno;
		goto out;
	}
	LIBBPF_OPTS(bpf_map_create_opts, opts, .btf_fd = btf__fd(btf),
		    .btf_key_type_id = int_id, .btf_value_type_id = val_id,
		    .map_flags = BPF_F_NO_PREALLOC);
	fd = bpf_map_create(BPF_MAP_TYPE_TASK_STORAGE, name, 4, value_size, 0, &opts);
	if (fd < 0)
		fd = -errno;
out:
	btf__free(btf);
	return fd;
}

long long th_map_show(const struct th_map *m, const char *key)
{
	char args[300], out[4096], pat[64], *p;

	snprintf(args, sizeof(args), "--path %s -j map show", m->path);
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (th_tldtool(args, out, sizeof(out)) || !(p = strstr(out, pat)))
		th_fatal("tldtool %s: no %s in %s", args, key, out);
	return atoll(p + strlen(pat));
}

int th_map_entries(struct th_map *m)
{
	return th_map_show(m, "entries");
}

void th_map_entries_wait(struct th_map *m, int want)
{
	int i, n = th_map_entries(m);

	for (i = 0; i < 500 && n != want; i++) {
		usleep(10000);
		n = th_map_entries(m);
	}
	TH_CHECK(n == want, "%d map entries 5 s after the threads exited, %d before", n, want);
}

long th_store_kb(const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512], name[32];
	unsigned long lo, hi;
	bool in = false;
	long kb = 0, v;

	if (!f)
		th_fatal("/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = strstr(line, "/memfd:tld ");
		else if (in && sscanf(line, "%31[^:]: %ld kB", name, &v) == 2 && !strcmp(name, field))
			kb += v;
	}
	fclose(f);
	return kb;
}

struct reader_bpf *th_reader_load(void)
{
	struct reader_bpf *r;
	int err;

	r = reader_bpf__open();
	if (!r)
		th_fatal("open reader: %s", strerror(errno));
	err = tld_loader_load_skeleton(r->skeleton, NULL);
	if (err)
		th_fatal("load reader: %s", strerror(-err));
	th_ack_watch(r->bss->th_acks);
	return r;
}

void th_reader_destroy(struct reader_bpf *r)
{
	th_ack_unwatch(r->bss->th_acks);
	reader_bpf__destroy(r);
}

void th_reader_watch_publish(struct reader_bpf *r)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = "tld_entry_write");
	struct bpf_link *link;
	Dl_info info;

	if (!dladdr(dlsym(RTLD_DEFAULT, "tld_create_key"), &info))
		th_fatal("dladdr: where is libtld?");
	link = bpf_program__attach_uprobe_opts(r->progs.th_entry_write, getpid(),
					       info.dli_fname, 0, &opts);
	if (!link)
		th_fatal("uprobe on %s:tld_entry_write: %s", info.dli_fname, strerror(errno));
	r->links.th_entry_write = link;
}

void th_reader_publish(struct reader_bpf *r, struct th_publish *out)
{
	*out = r->bss->publish;
}

bool th_result(struct reader_bpf *r, pid_t tid, struct th_result *out)
{
	__u32 key = tid;

	return !bpf_map__lookup_elem(r->maps.results, &key, sizeof(key), out, sizeof(*out), 0);
}

static pthread_mutex_t th_msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char th_msgs[8192];

static int th_collect(const char *fmt, va_list args)
{
	size_t n;

	pthread_mutex_lock(&th_msg_lock);
	n = strlen(th_msgs);
	vsnprintf(th_msgs + n, sizeof(th_msgs) - n, fmt, args);
	pthread_mutex_unlock(&th_msg_lock);
	return 0;
}

/* Looked up, not linked: test/unload must not load libtld at start. */
void th_capture(void)
{
	tld_print_fn_t (*set_print)(tld_print_fn_t) = dlsym(RTLD_DEFAULT, "tld_set_print");

	if (!set_print)
		th_fatal("tld_set_print: libtld is not loaded");
	set_print(th_collect);
}

int th_captured_count(const char *needle)
{
	const char *p;
	int n = 0;

	pthread_mutex_lock(&th_msg_lock);
	for (p = strstr(th_msgs, needle); p; p = strstr(p + 1, needle))
		n++;
	if (!n)
		fprintf(stderr, "messages so far: %s\n", th_msgs[0] ? th_msgs : "(none)");
	th_msgs[0] = '\0';
	pthread_mutex_unlock(&th_msg_lock);
	return n;
}

bool th_captured(const char *needle)
{
	return th_captured_count(needle) > 0;
}

const char *th_cgroup2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	char probe[128];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(probe, sizeof(probe), "%s/cgroup.procs", roots[i]);
		if (!access(probe, F_OK))
			return roots[i];
	}
	th_skip("no cgroup v2 hierarchy");
}

static void th_child_run(int up, int down, const char *cg)
{
	char procs[PATH_MAX], c = 0;
	FILE *f;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	f = fopen(procs, "w");
	if (!f || fputs("0", f) < 0 || fclose(f))
		_exit(1);
	th_mark(0);
	if (write(up, &c, 1) != 1 || read(down, &c, 1) < 0)
		_exit(1);
	_exit(0);
}

bool th_child_in_cgroup(struct th_child *c, const char *cg)
{
	int up[2], down[2];
	char b;

	if (pipe(up) || pipe(down))
		th_fatal("pipe: %s", strerror(errno));
	c->pid = fork();
	if (c->pid < 0)
		th_fatal("fork: %s", strerror(errno));
	if (!c->pid) {
		close(up[0]);
		close(down[1]);
		th_child_run(up[1], down[0], cg);
	}
	close(up[1]);
	close(down[0]);
	c->up = up[0];
	c->down = down[1];
	return read(c->up, &b, 1) == 1;
}

bool th_child_end(struct th_child *c)
{
	int status = 0;

	close(c->down);
	close(c->up);
	waitpid(c->pid, &status, 0);
	return WIFEXITED(status) && !WEXITSTATUS(status);
}

void th_become(uid_t uid)
{
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		_exit(3);
}

void th_spawn(struct th_proc *p, uid_t uid, const char *const *argv)
{
	int to[2], from[2];

	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		th_fatal("pipe: %m");
	p->pid = fork();
	if (p->pid < 0)
		th_fatal("fork: %m");
	if (!p->pid) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		if (uid)
			th_become(uid);
		execv(argv[0][0] == '/' ? argv[0] : th_exe(), (char *const *)argv);
		_exit(4);
	}
	close(to[0]);
	close(from[1]);
	p->in = to[1];
	p->out = from[0];
}
