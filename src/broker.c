// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Registering through tldd (strict mode): where the map is not writable
 * by this process, tldd attaches and detaches its threads' entries, pinning
 * the pages of this process's store, which it maps once per connection.
 * The protocol is in broker.h.
 *
 * A broken connection (tldd restarted) is made again once per request;
 * every request is idempotent, so repeating one tldd may have carried out
 * is harmless. A tldd that stops answering costs TLD_BROKER_TIMEOUT_S and
 * an error, never a hang.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "broker.h"
#include "internal.h"
#include "syscall.h"

#define TLD_BROKER_TIMEOUT_S	5

const char *tld__broker_path(void)
{
	const char *env = secure_getenv("TLD_SOCKET");

	return env && *env ? env : TLD_BROKER_SOCKET;
}

bool tld__broker_exists(void)
{
	struct stat st;

	return !stat(tld__broker_path(), &st) && S_ISSOCK(st.st_mode);
}

/* Send @req with @fd attached, and take the reply. -errno of the transport. */
static int tld_broker_call(int sock, const struct tld_broker_req *req, int fd,
			   struct tld_broker_rep *rep)
{
	char cbuf[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8))) = { 0 };
	struct iovec iov = { .iov_base = (void *)req, .iov_len = sizeof(*req) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (n != sizeof(*req))
		return -EIO;
	do
		n = recv(sock, rep, sizeof(*rep), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(*rep) || rep->magic != TLD_BROKER_MAGIC ||
	    rep->version != TLD_BROKER_VERSION || rep->op != req->op)
		return -EPROTO;
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	return 0;
}

static void tld_broker_req_init(struct tld_broker_req *req, enum tld_broker_op op)
{
	memset(req, 0, sizeof(*req));
	req->magic = TLD_BROKER_MAGIC;
	req->version = TLD_BROKER_VERSION;
	req->op = op;
}

static int tld_broker_dial(void)
{
	struct timeval tv = { .tv_sec = TLD_BROKER_TIMEOUT_S };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = tld__broker_path();
	int sock;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	sock = tld_sys_result(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (sock < 0)
		return sock;
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(sock, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		tld_sys_close(sock);
		return err;
	}
	return sock;
}

/* A connection that has said hello, in tld__proc.broker_fd. Lock held. */
static int tld_broker_connect(struct tld_broker_rep *rep)
{
	struct tld_broker_req req;
	struct tld_meta_u *meta;
	int sock, err;

	err = tld__store_meta(&meta);
	if (err)
		return err;
	sock = tld_broker_dial();
	if (sock < 0)
		return sock;
	tld_broker_req_init(&req, TLD_BROKER_HELLO);
	err = tld_broker_call(sock, &req, tld__store_fd(), rep);
	if (!err && rep->ret < 0)
		err = 1;	/* refused: rep says why */
	if (err) {
		tld_sys_close(sock);
		return err;
	}
	tld__proc.broker_fd = sock;
	return 0;
}

/*
 * The result of a call that got @err and @rep, for thread @tid (0: the
 * connection itself): tldd's answer, or -errno with the reason said.
 */
static int tld_broker_say(int err, const struct tld_broker_rep *rep, pid_t tid)
{
	if (err < 0)
		return tld__err(err, "cannot reach tldd at %s", tld__broker_path());
	if (err > 0)
		return tld__err(rep->ret, "tldd refused this process's store: %s", rep->msg);
	if (rep->ret < 0)
		return tld__err(rep->ret, "tldd refused thread %d: %s", tid, rep->msg);
	return rep->ret;
}

/* Connect to tldd now, so that tld_init() says whether it answers. */
int tld__broker_open(void)
{
	struct tld_broker_rep rep = { 0 };

	if (tld__proc.broker_fd >= 0)
		return 0;
	return tld_broker_say(tld_broker_connect(&rep), &rep, 0);
}

void tld__broker_close(void)
{
	if (tld__proc.broker_fd >= 0)
		tld_sys_close(tld__proc.broker_fd);
	tld__proc.broker_fd = -1;
}

static bool tld_broker_broken(int err)
{
	return err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN;
}

/*
 * Carry out @req for thread @tid, named by @pidfd; its result, or -errno
 * with the reason said. Lock held.
 */
static int tld_broker_request(struct tld_broker_req *req, int pidfd, pid_t tid)
{
	struct tld_broker_rep rep = { 0 };
	int err, tries;

	for (tries = 0; tries < 2; tries++) {
		err = tld__proc.broker_fd < 0 ? tld_broker_connect(&rep) : 0;
		if (!err)
			err = tld_broker_call(tld__proc.broker_fd, req, pidfd, &rep);
		if (!tld_broker_broken(err))
			break;
		tld__broker_close();
	}
	return tld_broker_say(err, &rep, tid);
}

int tld__broker_attach(int pidfd, pid_t tid, const struct tld_map_value *value)
{
	struct tld_broker_req req;
	long long data = tld__store_off(value->data), meta = tld__store_off(value->meta);

	if (data < 0 || meta < 0)
		return tld__err(-EOPNOTSUPP, "thread %d's page is not in the store tldd maps (this fork child could not make its own)",
				tid);
	tld_broker_req_init(&req, TLD_BROKER_ATTACH);
	req.data_off = data;
	req.meta_off = meta;
	req.start = value->start;
	return tld_broker_request(&req, pidfd, tid);
}

int tld__broker_detach(int pidfd, pid_t tid)
{
	struct tld_broker_req req;

	tld_broker_req_init(&req, TLD_BROKER_DETACH);
	return tld_broker_request(&req, pidfd, tid);
}

int tld__broker_has_entry(int pidfd, pid_t tid)
{
	struct tld_broker_req req;

	tld_broker_req_init(&req, TLD_BROKER_QUERY);
	return tld_broker_request(&req, pidfd, tid);
}
