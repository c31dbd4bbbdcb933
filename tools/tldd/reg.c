// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The threads tldd registered, and each uid's share of them.
 *
 * tldd holds a pidfd for every thread it registered: the thread is named
 * by it, not by a number another task may take, and it becomes readable
 * when the thread exits, which is when its registration ends (the map's
 * exit program deletes the entry; libtld sends DETACH before that, and a
 * zombie main thread's pidfd stays unreadable while its process runs). A uid's share counts its threads, its
 * processes with a registered thread (each pins a meta page) and its
 * connections; the limits are tldd's options.
 *
 * A restarted tldd has none of this. It adopts every entry the map holds
 * (tldd_reg_adopt()), charged to the thread's effective uid, so that
 * neither a restart nor the quota loses one; the process's next request
 * for the thread makes its connection the owner.
 */
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "syscall.h"
#include "tldd.h"

#define TLDD_BUCKETS	1024

/* PIDFD_GET_INFO (6.13): the first 64 bytes of struct pidfd_info. */
struct tldd_pidfd_info {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32 exit_code;
};
#define TLDD_PIDFD_GET_INFO	_IOWR(0xFF, 11, struct tldd_pidfd_info)

/* A uid's share, or a process's: kept while anything counts in it. */
struct tldd_count {
	unsigned int id;	/* uid, or tgid */
	int threads, procs, conns;
	struct tldd_count *next;
};

static struct tldd_reg *tldd_regs[TLDD_BUCKETS];
static struct tldd_count *tldd_users, *tldd_procs;

/* The thread, process and effective uid of @pidfd, in tldd's namespaces. */
int tldd_pidfd_info(int pidfd, pid_t *tid, pid_t *tgid, uid_t *euid)
{
	struct tldd_pidfd_info info = { 0 };

	if (ioctl(pidfd, TLDD_PIDFD_GET_INFO, &info))
		return -errno;
	if (!info.pid || !info.tgid)
		return -ESRCH;	/* not in tldd's pid namespace */
	*tid = info.pid;
	*tgid = info.tgid;
	*euid = info.euid;
	return 0;
}

static struct tldd_count *tldd_count_get(struct tldd_count **list, unsigned int id, bool make)
{
	struct tldd_count *c;

	for (c = *list; c; c = c->next)
		if (c->id == id)
			return c;
	if (!make || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->id = id;
	c->next = *list;
	*list = c;
	return c;
}

static void tldd_count_put(struct tldd_count **list, struct tldd_count *c)
{
	struct tldd_count **pp;

	if (c->threads || c->procs || c->conns)
		return;
	for (pp = list; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	free(c);
}

struct tldd_reg *tldd_reg_find(pid_t tid)
{
	struct tldd_reg *r;

	for (r = tldd_regs[tid % TLDD_BUCKETS]; r; r = r->next)
		if (r->tid == tid)
			return r;
	return NULL;
}

/* Whether @r's thread exited (its pidfd is readable), not yet reaped here. */
bool tldd_reg_dead(const struct tldd_reg *r)
{
	struct pollfd p = { .fd = r->pidfd, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

/* 0 if @uid may register one more thread of @tgid; else -EDQUOT and why. */
int tldd_reg_admit(uid_t uid, pid_t tgid, char *why, size_t len)
{
	struct tldd_count *u = tldd_count_get(&tldd_users, uid, false);
	int threads = u ? u->threads : 0, procs = u ? u->procs : 0;

	if (!tldd_count_get(&tldd_procs, tgid, false))
		procs++;
	if (threads + 1 > tldd_opts.max_threads) {
		snprintf(why, len, "uid %u has %d threads registered, tldd's limit (--max-threads)",
			 uid, threads);
		return -EDQUOT;
	}
	if (threads + 1 + procs > tldd_opts.max_pages) {
		snprintf(why, len, "uid %u would pin %d pages, over tldd's limit of %d (--max-pages)",
			 uid, threads + 1 + procs, tldd_opts.max_pages);
		return -EDQUOT;
	}
	return 0;
}

/* Count a connection of @uid in (@delta 1) or out (-1); -EDQUOT if over. */
int tldd_conn_admit(uid_t uid, int delta)
{
	struct tldd_count *u = tldd_count_get(&tldd_users, uid, delta > 0);

	if (!u)
		return delta > 0 ? -ENOMEM : 0;
	if (delta > 0 && u->conns >= tldd_opts.max_threads) {
		tldd_count_put(&tldd_users, u);
		return -EDQUOT;
	}
	u->conns += delta;
	tldd_count_put(&tldd_users, u);
	return 0;
}

/* Keep @pidfd, thread @tid's, as a registration; watched until it exits. */
int tldd_reg_add(int pidfd, pid_t tid, pid_t tgid, uid_t uid, struct tldd_client *owner)
{
	struct tldd_count *u, *p;
	struct tldd_reg *r;

	r = calloc(1, sizeof(*r));
	u = tldd_count_get(&tldd_users, uid, true);
	p = tldd_count_get(&tldd_procs, tgid, true);
	if (!r || !u || !p) {
		free(r);
		if (u)
			tldd_count_put(&tldd_users, u);
		if (p)
			tldd_count_put(&tldd_procs, p);
		return -ENOMEM;
	}
	*r = (struct tldd_reg){ .kind = TLDD_REG, .pidfd = pidfd, .owner = owner, .tid = tid,
				.tgid = tgid, .uid = uid };
	r->next = tldd_regs[tid % TLDD_BUCKETS];
	tldd_regs[tid % TLDD_BUCKETS] = r;
	if (!p->threads++)
		u->procs++;
	u->threads++;
	tldd_watch(pidfd, r);
	return 0;
}

/* The registration ends: its entry is gone or goes with its thread. */
void tldd_reg_drop(struct tldd_reg *r)
{
	struct tldd_count *u = tldd_count_get(&tldd_users, r->uid, false);
	struct tldd_count *p = tldd_count_get(&tldd_procs, r->tgid, false);
	struct tldd_reg **pp;

	for (pp = &tldd_regs[r->tid % TLDD_BUCKETS]; *pp != r; pp = &(*pp)->next)
		;
	*pp = r->next;
	if (p && !--p->threads && u)
		u->procs--;
	if (u)
		u->threads--;
	if (p)
		tldd_count_put(&tldd_procs, p);
	if (u)
		tldd_count_put(&tldd_users, u);
	tld_sys_close(r->pidfd);	/* leaves the epoll set with it */
	free(r);
}

/*
 * Connection @owner closed: erase the entries it made. A live process that
 * lets go of tldd lets go of its pinned pages too, or the quota would be
 * escaped by reconnecting. By connection, not by process: after exec the
 * new image's connection may register the same thread before tldd sees
 * the old one close.
 */
void tldd_reg_drop_owned(struct tldd_client *owner)
{
	struct tldd_reg *r, *next;
	int i;

	for (i = 0; i < TLDD_BUCKETS; i++)
		for (r = tldd_regs[i]; r; r = next) {
			next = r->next;
			if (r->owner != owner)
				continue;
			tld_bpf_map_elem(BPF_MAP_DELETE_ELEM, tldd_map_fd, &r->pidfd, NULL, 0);
			tldd_reg_drop(r);
		}
}

static bool tldd_number(const char *s)
{
	return *s >= '0' && *s <= '9';
}

/* Adopt thread @tid if it has an entry; 1 if adopted. */
static int tldd_adopt_thread(pid_t tid)
{
	struct tld_map_value v;
	pid_t t, tgid;
	uid_t euid;
	int pidfd;

	pidfd = tld_sys_pidfd_open(tid);
	if (pidfd < 0)
		return 0;
	if (tld_bpf_map_elem(BPF_MAP_LOOKUP_ELEM, tldd_map_fd, &pidfd, &v, 0) ||
	    tldd_pidfd_info(pidfd, &t, &tgid, &euid) || tldd_reg_find(t) ||
	    tldd_reg_add(pidfd, t, tgid, euid, NULL)) {
		tld_sys_close(pidfd);
		return 0;
	}
	return 1;
}

/* Take on every entry the map holds now; how many. */
int tldd_reg_adopt(void)
{
	char path[sizeof("/proc//task") + 256];
	struct dirent *p, *t;
	DIR *procs, *tasks;
	int n = 0;

	procs = opendir("/proc");
	if (!procs)
		return -errno;
	while ((p = readdir(procs))) {
		if (!tldd_number(p->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		tasks = opendir(path);
		while (tasks && (t = readdir(tasks)))
			if (tldd_number(t->d_name))
				n += tldd_adopt_thread(atoi(t->d_name));
		if (tasks)
			closedir(tasks);
	}
	closedir(procs);
	return n;
}
