// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One connection's requests (broker.h). Everything a client sends is
 * hostile: the request's size and fields, the number and kind of
 * descriptors, and whose thread a pidfd names. The caller is the process
 * the socket names (SO_PEERPIDFD), fixed at connect; a thread is accepted
 * only if its pidfd, resolved now, is in that process. The map update is
 * keyed by the same pidfd, so a thread that exits in between is refused
 * by the kernel (ESRCH), never mistaken for a task that reuses its number.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "syscall.h"
#include "tldd.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif

#define TLDD_BATCH	16

static struct tldd_client *tldd_clients;

struct tldd_client *tldd_client_new(int fd)
{
	struct tldd_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int pidfd = -1;
	pid_t tid;
	uid_t euid;

	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		goto fail;
	len = sizeof(pidfd);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) ||
	    tldd_pidfd_info(pidfd, &tid, &c->tgid, &euid))
		goto fail;
	if (tldd_conn_admit(cred.uid, 1)) {
		tldd_say("uid %u: too many connections", cred.uid);
		goto fail_conn;
	}
	c->kind = TLDD_CLIENT;
	c->fd = fd;
	c->pidfd = pidfd;
	c->uid = cred.uid;
	c->next = tldd_clients;
	tldd_clients = c;
	tldd_watch(fd, c);
	return c;
fail:
	if (pidfd >= 0)
		tld_sys_close(pidfd);
fail_conn:
	free(c);
	tld_sys_close(pidfd);
	tld_sys_close(fd);
	return NULL;
}

void tldd_client_close(struct tldd_client *c)
{
	struct tldd_client **pp;

	for (pp = &tldd_clients; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	tldd_reg_drop_owned(c);
	if (c->store)
		munmap(c->store, TLD_BROKER_STORE_MAX);
	tldd_conn_admit(c->uid, -1);
	tld_sys_close(c->pidfd);
	tld_sys_close(c->fd);
	free(c);
}

__attribute__((format(printf, 3, 4)))
static int tldd_fail(struct tld_broker_rep *rep, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
	va_end(ap);
	return err;
}

/* The process's store: a memfd that cannot shrink under the mapping. */
static int tldd_hello(struct tldd_client *c, int fd, struct tld_broker_rep *rep)
{
	struct statfs sfs;
	struct stat st;
	int seals;
	void *p;

	if (c->store)
		return tldd_fail(rep, -EALREADY, "this connection has a store already");
	seals = fcntl(fd, F_GET_SEALS);
	/* Not hugetlbfs: mapping it would reserve huge pages for the whole store. */
	if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    fstatfs(fd, &sfs) || sfs.f_type != TMPFS_MAGIC)
		return tldd_fail(rep, -EINVAL, "the store must be a memfd sealed with F_SEAL_SHRINK");
	p = mmap(NULL, TLD_BROKER_STORE_MAX, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED)
		return tldd_fail(rep, -errno, "cannot map the store: %s", strerror(errno));
	/*
	 * A page the pin faults in through this mapping is never a huge
	 * page's part, which a client's punch could only zero in place.
	 */
	madvise(p, TLD_BROKER_STORE_MAX, MADV_NOHUGEPAGE);
	c->store = p;
	return 0;
}

/*
 * The thread @pidfd names, if it is the caller's. Its process is compared
 * by number, so the caller must still be alive afterwards: a connection
 * outlives its process when another process holds it, and the number may
 * be a new process's by then. A process never comes back, so a caller
 * alive after the thread was seen in its number was alive before.
 */
static int tldd_thread(struct tldd_client *c, int pidfd, pid_t *tid,
		       struct tld_broker_rep *rep)
{
	pid_t tgid, ptid, ptgid;
	uid_t euid;
	int err = tldd_pidfd_info(pidfd, tid, &tgid, &euid);

	if (err == -ESRCH)
		return tldd_fail(rep, err, "the thread has exited");
	if (err)
		return tldd_fail(rep, -EBADF, "the descriptor is not a pidfd");
	if (tgid != c->tgid)
		return tldd_fail(rep, -EPERM, "thread %d is in process %d, not in the caller, process %d",
				 *tid, tgid, c->tgid);
	if (tldd_pidfd_info(c->pidfd, &ptid, &ptgid, &euid) || ptgid != c->tgid)
		return tldd_fail(rep, -ESRCH, "process %d, which connected, has exited", c->tgid);
	return 0;
}

static int tldd_offsets_check(const struct tld_broker_req *req, struct tld_broker_rep *rep)
{
	if (req->data_off % TLD_PAGE_SIZE || req->meta_off % TLD_PAGE_SIZE ||
	    req->data_off >= TLD_BROKER_STORE_MAX || req->meta_off >= TLD_BROKER_STORE_MAX ||
	    req->start >= TLD_PAGE_SIZE)
		return tldd_fail(rep, -EINVAL, "pages outside the store, or a start past the page");
	return 0;
}

/* A registration of @tid by someone else is stale: its thread is gone. */
static struct tldd_reg *tldd_reg_current(pid_t tid, pid_t tgid)
{
	struct tldd_reg *r = tldd_reg_find(tid);

	if (r && (r->tgid != tgid || tldd_reg_dead(r))) {
		tldd_reg_drop(r);
		r = NULL;
	}
	return r;
}

/* Takes @pidfd (-1 after) if it becomes a registration. */
static int tldd_attach(struct tldd_client *c, const struct tld_broker_req *req, int *pidfd,
		       struct tld_broker_rep *rep)
{
	struct tld_map_value v = { 0 };
	struct tldd_reg *r;
	pid_t tid;
	int err;

	if (!c->store)
		return tldd_fail(rep, -EPROTO, "no store: the connection did not start with HELLO");
	err = tldd_thread(c, *pidfd, &tid, rep);
	if (!err)
		err = tldd_offsets_check(req, rep);
	if (err)
		return err;
	r = tldd_reg_current(tid, c->tgid);
	if (!r) {
		err = tldd_reg_admit(c->uid, c->tgid, rep->msg, sizeof(rep->msg));
		if (err)
			return err;
	}
	v.data = (void *)(c->store + req->data_off);
	v.meta = (void *)(c->store + req->meta_off);
	v.start = req->start;
	err = tld_bpf_map_elem(BPF_MAP_UPDATE_ELEM, tldd_map_fd, pidfd, &v, BPF_ANY);
	if (err)
		return tldd_fail(rep, err, "the map update failed: %s%s", strerror(-err),
				 err == -EFAULT ? " (a page past the store's end)" : "");
	if (r) {
		r->owner = c;
		return 0;
	}
	err = tldd_reg_add(*pidfd, tid, c->tgid, c->uid, c);
	if (err) {
		tld_bpf_map_elem(BPF_MAP_DELETE_ELEM, tldd_map_fd, pidfd, NULL, 0);
		return tldd_fail(rep, err, "tldd is out of memory");
	}
	*pidfd = -1;
	return 0;
}

static int tldd_detach(struct tldd_client *c, int pidfd, struct tld_broker_rep *rep)
{
	struct tldd_reg *r;
	pid_t tid;
	int err = tldd_thread(c, pidfd, &tid, rep);

	if (err)
		return err;
	err = tld_bpf_map_elem(BPF_MAP_DELETE_ELEM, tldd_map_fd, &pidfd, NULL, 0);
	if (err && err != -ENOENT)
		return tldd_fail(rep, err, "the map delete failed: %s", strerror(-err));
	r = tldd_reg_current(tid, c->tgid);
	if (r)
		tldd_reg_drop(r);
	return 0;
}

static int tldd_query(struct tldd_client *c, int pidfd, struct tld_broker_rep *rep)
{
	struct tld_map_value v;
	pid_t tid;
	int err = tldd_thread(c, pidfd, &tid, rep);

	if (err)
		return err;
	err = tld_bpf_map_elem(BPF_MAP_LOOKUP_ELEM, tldd_map_fd, &pidfd, &v, 0);
	if (err == -ENOENT)
		return 0;
	return err ? tldd_fail(rep, err, "the map lookup failed: %s", strerror(-err)) : 1;
}

static int tldd_dispatch(struct tldd_client *c, const struct tld_broker_req *req, int *fd,
			 struct tld_broker_rep *rep)
{
	if (req->magic != TLD_BROKER_MAGIC || req->version != TLD_BROKER_VERSION || req->pad)
		return tldd_fail(rep, -EPROTO, "not a tld broker request of version %d",
				 TLD_BROKER_VERSION);
	switch (req->op) {
	case TLD_BROKER_HELLO:
		return tldd_hello(c, *fd, rep);
	case TLD_BROKER_ATTACH:
		return tldd_attach(c, req, fd, rep);
	case TLD_BROKER_DETACH:
		return tldd_detach(c, *fd, rep);
	case TLD_BROKER_QUERY:
		return tldd_query(c, *fd, rep);
	default:
		return tldd_fail(rep, -EOPNOTSUPP, "unknown request %u", req->op);
	}
}

/*
 * Receive one request and the one descriptor it must carry; any other
 * descriptors are closed. 1 if one came, 0 if none is waiting, -errno if
 * the connection is over.
 */
static int tldd_recv(struct tldd_client *c, struct tld_broker_req *req, int *fd)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))] __attribute__((aligned(8)));
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fds[4], i, n, nfds = 0;
	ssize_t len;

	len = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (len < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (len == 0)
		return -ECONNRESET;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n && nfds < 4; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	*fd = nfds == 1 ? fds[0] : -1;
	for (i = 0; i < nfds && *fd < 0; i++)
		tld_sys_close(fds[i]);
	if (len != sizeof(*req) || mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || *fd < 0) {
		if (*fd >= 0)
			tld_sys_close(*fd);
		*fd = -1;
		memset(req, 0, sizeof(*req));	/* answered as malformed */
	}
	return 1;
}

/*
 * Answer the requests waiting, a few at a time so that no client keeps the
 * others waiting (the epoll set is level-triggered: the rest come next);
 * close the connection when it ends.
 */
/* Answer one request; -errno if the connection is over. */
static int tldd_answer(struct tldd_client *c, struct tld_broker_req *req, int fd)
{
	struct tld_broker_rep rep = {
		.magic = TLD_BROKER_MAGIC, .version = TLD_BROKER_VERSION, .op = req->op,
	};

	rep.ret = fd < 0 ? tldd_fail(&rep, -EPROTO, "a request must be %zu bytes with one descriptor",
				     sizeof(*req))
			 : tldd_dispatch(c, req, &fd, &rep);
	if (fd >= 0)
		tld_sys_close(fd);
	if (rep.ret < 0 && tldd_opts.verbose)
		tldd_say("process %d (uid %u): %s", c->tgid, c->uid, rep.msg);
	if (send(c->fd, &rep, sizeof(rep), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(rep))
		return -EPIPE;	/* it does not read its answers */
	return 0;
}

void tldd_client_input(struct tldd_client *c)
{
	struct tld_broker_req req;
	int fd = -1, err = 0, n;

	for (n = 0; n < TLDD_BATCH && !err; n++) {
		err = tldd_recv(c, &req, &fd);
		if (err <= 0)
			break;
		err = tldd_answer(c, &req, fd);
	}
	if (err < 0)
		tldd_client_close(c);
}
