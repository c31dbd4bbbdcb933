// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-cgroup hints: whoever may manage a cgroup may set its hints, and BPF
 * reads a task's effective hint, its own cgroup's or its nearest
 * ancestor's.
 * - uid 65534, owner of a delegated cgroup, sets a hint there and on a
 *   child it made; on a cgroup it does not own, and on the root, it is
 *   refused with -EACCES and a message.
 * - A task in the child reads the parent's value until the child has its
 *   own, and the parent's again once that is cleared.
 * - tldtool cgroup set, get and show say the same.
 *
 * Checked to fail: with tld_cgroup_hint() reading only the task's own
 * cgroup (no ancestor walk), the inherited values are missing; with the
 * walk starting at the root, the child's own value is never seen.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tld/cgroup.h>

#include "harness.h"
#include "hints.skel.h"

#define NOBODY	65534

struct th_hint {
	__s32 level;
	__u32 pad;
	__u64 value;
};

static char root[128], top[256], child[300], other[300];
static struct hints_bpf *prog;

static int level_of(const char *path)
{
	int n = 0;
	const char *p;

	for (p = path + strlen(root); *p; p++)
		n += *p == '/';
	return n;
}

static void delegate(const char *dir)
{
	static const char *const files[] = { "", "/cgroup.procs", "/cgroup.threads",
					     "/cgroup.subtree_control" };
	char path[400];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", dir, files[i]);
		if (chown(path, NOBODY, NOBODY))
			th_fatal("chown %s: %m", path);
	}
}

/* As uid 65534: what a delegated owner may and may not do. 0 or a failure code. */
static int as_nobody(void)
{
	char v[TLD_CGROUP_VALUE_MAX];

	if (setgid(NOBODY) || setuid(NOBODY))
		return 10;
	th_capture();
	if (mkdir(child, 0755))
		return 11;
	if (tld_cgroup_hint_set(top, "latency", "7"))
		return 12;
	if (tld_cgroup_hint_get(top, "latency", v, sizeof(v)) != 1 || strcmp(v, "7"))
		return 13;
	if (tld_cgroup_hint_set(other, "latency", "1") != -EACCES ||
	    !th_captured("only root and the owner of a delegated cgroup may"))
		return 14;
	if (tld_cgroup_hint_set(root, "latency", "1") != -EACCES)
		return 15;
	if (tld_cgroup_hint_set(top, "Bad Key", "1") != -EINVAL)
		return 16;
	return 0;
}

/* What BPF reads for a task in @cg: the level, or -errno, and the value. */
static struct th_hint bpf_reads(const char *cg)
{
	struct th_hint h = { .level = -1000 };
	struct th_child c;
	__u32 key;

	if (th_child_in_cgroup(&c, cg)) {
		key = c.pid;
		bpf_map__lookup_elem(prog->maps.hints, &key, sizeof(key), &h, sizeof(h), 0);
	}
	TH_CHECK(th_child_end(&c), "the child in %s", cg);
	return h;
}

static void expect(const char *cg, int level, __u64 value, const char *when)
{
	struct th_hint h = bpf_reads(cg);

	TH_CHECK(h.level == level && (level < 0 || h.value == value),
		 "%s: BPF read level %d value %llu, want level %d value %llu", when, h.level,
		 (unsigned long long)h.value, level, (unsigned long long)value);
}

static void cleanup(void)
{
	rmdir(child);
	rmdir(other);
	rmdir(top);
}

int main(void)
{
	char out[1024], args[600];
	int status;
	pid_t pid;

	snprintf(root, sizeof(root), "%s", th_cgroup2_root());
	snprintf(top, sizeof(top), "%s/tld-test-hints-%d", root, getpid());
	snprintf(child, sizeof(child), "%s/app", top);
	snprintf(other, sizeof(other), "%s/tld-test-hints-%d-other", root, getpid());
	atexit(cleanup);
	if (mkdir(top, 0755) || mkdir(other, 0755))
		th_fatal("mkdir: %m");
	delegate(top);
	prog = hints_bpf__open_and_load();
	if (!prog || hints_bpf__attach(prog))
		th_fatal("cannot load the hints reader");
	th_ack_watch(prog->bss->th_acks);

	pid = fork();
	if (!pid)
		_exit(as_nobody());
	waitpid(pid, &status, 0);
	TH_CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "as uid %d: step %d failed", NOBODY,
		 WEXITSTATUS(status));

	expect(child, level_of(top), 7, "inherited from the parent");
	expect(other, -ENODATA, 0, "no hint anywhere");
	snprintf(args, sizeof(args), "cgroup set %s latency 3", child);
	TH_CHECK(!th_tldtool(args, out, sizeof(out)), "tldtool %s: %s", args, out);
	expect(child, level_of(child), 3, "its own");
	snprintf(args, sizeof(args), "cgroup show %s", child);
	TH_CHECK(!th_tldtool(args, out, sizeof(out)) && strstr(out, "latency") && strstr(out, "3"),
		 "tldtool %s: %s", args, out);
	snprintf(args, sizeof(args), "cgroup get %s latency", top);
	TH_CHECK(!th_tldtool(args, out, sizeof(out)) && !strcmp(out, "7\n"), "tldtool %s: %s",
		 args, out);
	TH_CHECK(!tld_cgroup_hint_clear(child, "latency"), "clear");
	expect(child, level_of(top), 7, "inherited again once cleared");
	TH_CHECK(!tld_cgroup_hint_set(child, "latency", "fast"), "a text value");
	expect(child, -EINVAL, 0, "not a number");

	th_ack_unwatch(prog->bss->th_acks);
	hints_bpf__destroy(prog);
	th_done();
}
