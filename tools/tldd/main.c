// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldd: registers threads in the tld map for processes that may not write
 * it (strict mode, docs/security.md). Its options, its socket (its own, or
 * systemd's), and the loop.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "syscall.h"
#include "tld/tld.h"
#include "tldd.h"
#include "tool.h"

#define TLDD_LISTEN_FDS_START	3	/* systemd's sd_listen_fds(3) */

struct tldd_opts tldd_opts = {
	.mode = 0666,
	.max_threads = 1024,
	.max_pages = 2048,
};
int tldd_map_fd = -1;

static int tldd_epfd = -1;
static enum tldd_kind tldd_listener = TLDD_LISTEN;

void tldd_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tldd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void tldd_watch(int fd, void *obj)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = obj };

	if (epoll_ctl(tldd_epfd, EPOLL_CTL_ADD, fd, &ev))
		tldd_say("cannot watch fd %d: %s", fd, strerror(errno));
}

static void tldd_usage(FILE *f)
{
	fprintf(f,
		"usage: tldd [--socket PATH] [--map PATH] [--mode MODE]\n"
		"            [--max-threads N] [--max-pages N] [--verbose]\n"
		"Registers threads in the tld map for processes that may not write it.\n"
		"  --socket PATH     listen here (default $TLD_SOCKET, then %s);\n"
		"                    a socket passed by systemd is used instead\n"
		"  --map PATH        the map (default $TLD_MAP_PATH, then %s)\n"
		"  --mode MODE       of the socket tldd makes (default 0666)\n"
		"  --max-threads N   per uid: registered threads and connections (1024)\n"
		"  --max-pages N     per uid: pinned pages (2048)\n",
		TLD_BROKER_SOCKET, TLD_DEFAULT_MAP_PATH);
}

static int tldd_number(const char *s, long max, const char *what)
{
	char *end;
	long v = strtol(s, &end, 0);

	if (*s && !*end && v > 0 && v <= max)
		return v;
	tldd_say("%s must be a number in 1..%ld, not '%s'", what, max, s);
	exit(2);
}

static void tldd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "map", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "max-threads", required_argument, NULL, 't' },
		{ "max-pages", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:m:M:t:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's': tldd_opts.socket = optarg; break;
		case 'm': tldd_opts.map = optarg; break;
		case 'M': tldd_opts.mode = tldd_number(optarg, 07777, "--mode"); break;
		case 't': tldd_opts.max_threads = tldd_number(optarg, 1 << 20, "--max-threads"); break;
		case 'p': tldd_opts.max_pages = tldd_number(optarg, 1 << 22, "--max-pages"); break;
		case 'v': tldd_opts.verbose = true; break;
		case 'h': tldd_usage(stdout); exit(0);
		default: tldd_usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		tldd_usage(stderr);
		exit(2);
	}
	if (!tldd_opts.socket)
		tldd_opts.socket = getenv("TLD_SOCKET") && *getenv("TLD_SOCKET") ?
				   getenv("TLD_SOCKET") : TLD_BROKER_SOCKET;
	if (!tldd_opts.map)
		tldd_opts.map = tld__map_default_path();
}

/* systemd's socket (LISTEN_PID, LISTEN_FDS), or -1. */
static int tldd_activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (!pid || !fds || atol(pid) != getpid())
		return -1;
	if (atoi(fds) != 1) {
		tldd_say("systemd passed %s sockets; tldd takes one", fds);
		exit(1);
	}
	return TLDD_LISTEN_FDS_START;
}

static int tldd_bind(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	/* A socket left by a tldd that died; nothing else is removed. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, tldd_opts.mode) ||
	    listen(fd, 128)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int tldd_listen(void)
{
	int fd = tldd_activated();

	if (fd < 0) {
		fd = tldd_bind(tldd_opts.socket);
		if (fd < 0) {
			tldd_say("cannot listen on %s: %s", tldd_opts.socket, strerror(-fd));
			exit(1);
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* A pidfd and a connection per registration: as many fds as allowed. */
static void tldd_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void tldd_accept(int lfd)
{
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
		tldd_client_new(fd);
}

static void tldd_event(struct epoll_event *ev, int lfd)
{
	enum tldd_kind *kind = ev->data.ptr;

	switch (*kind) {
	case TLDD_LISTEN:
		tldd_accept(lfd);
		break;
	case TLDD_CLIENT:
		tldd_client_input(ev->data.ptr);
		break;
	case TLDD_REG:
		tldd_reg_drop(ev->data.ptr);
		break;
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev;
	int lfd, n;

	tldd_parse(argc, argv);
	tldd_fd_limit();
	tldd_map_fd = tld__map_open(tldd_opts.map);
	if (tldd_map_fd < 0)
		return 1;
	tldd_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (tldd_epfd < 0) {
		tldd_say("epoll_create1: %s", strerror(errno));
		return 1;
	}
	/* Before the first request, so that every quota counts what the map holds. */
	n = tldd_reg_adopt();
	tldd_say("serving %s on %s; %d registered threads adopted", tldd_opts.map,
		 tldd_opts.socket, n < 0 ? 0 : n);
	lfd = tldd_listen();
	tldd_watch(lfd, &tldd_listener);
	for (;;) {
		n = epoll_wait(tldd_epfd, &ev, 1, -1);
		if (n < 0 && errno != EINTR) {
			tldd_say("epoll_wait: %s", strerror(errno));
			return 1;
		}
		/* One at a time: an event may free what a later one names. */
		if (n == 1)
			tldd_event(&ev, lfd);
	}
}
