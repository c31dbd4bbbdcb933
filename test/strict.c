// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Strict mode: the map is pinned 0600 and tldd registers threads for
 * everyone else. Processes of uids 60001..60003 register through it with
 * the same libtld calls as in direct mode; attackers run as uid 65534.
 *
 * - A victim's values are read by a tld.bpf.h reader, by the same reader
 *   without the guard's check, and by a reader built on the upstream
 *   header: the guard took the vouch of a thread tldd registered.
 * - uid 65534 cannot plant or erase directly (the map does not open), nor
 *   through tldd with a pidfd of the victim's thread (attach, detach and
 *   query are refused), nor with a pidfd of its own thread that exited
 *   and whose tid the victim's new thread now has. Afterwards every reader
 *   still reads the victim's own values.
 * - A connection held by another process after the one that made it
 *   exited: an attach for the new process that took its number (made to,
 *   with ns_last_pid) is refused.
 * - Requests that are not requests (short, no descriptor, two, a pipe
 *   instead of a pidfd, a store that is not a sealed memfd) are refused and
 *   tldd goes on serving.
 * - Quota: uid 60002 registers 8 threads of 10 under --max-threads 8, the
 *   other two fail with -EDQUOT and a message naming the limit; uid 60003
 *   is not affected; once 60002's threads exit it may register again.
 *   uid 60004 at the limit: a thread that is exiting (held after libtld's
 *   destructor) no longer counts, so another registers (libtld tells tldd
 *   at exit, rather than leave the entry to the kernel as it does directly).
 * - Restart: tldd killed and started again adopts the registrations: the
 *   readers still read them, the quota still counts them, and a thread
 *   that exits after the restart is detached through the new tldd.
 * - tldd stopped in the middle of a request and then killed: the client
 *   gets an error within its timeout, not a hang, and leaks no descriptor.
 * - A fork child is registered through its own connection and store: it
 *   and its parent each read their own value.
 * - tld_refresh() registers the thread that failed while tldd was down;
 *   after exec the new image registers through a new connection; after
 *   tld_fini() the entry is gone.
 * - A process in a user and mount namespace with no bpffs at all reaches
 *   tldd through the socket and registers.
 *
 * The guard swept none of the entries tldd registered: in strict mode libtld
 * announces before each update (checked to fail by not announcing).
 *
 * Checked to fail: tldd without its thread-group check lets uid 65534's
 * attach through (the unchecked reader reads 666); libtld without strict
 * mode fails every registration with -EACCES (make mutate).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <tld/loader.h>

#include "../src/broker.h"
#include "compat.skel.h"
#include "harness.h"
#include "../bpf/tld_guard.h"
#include "reader.skel.h"
#include "reader_unvouched.skel.h"

#define PLANTED		666
#define QUOTA		8

TLD_DEFINE_KEY(static_key, "test.static", sizeof(__u64));

static struct th_map map;
static char sock_path[100];
static pid_t tldd_pid;
static struct reader_bpf *guarded;
static struct reader_unvouched_bpf *unguarded;
static struct compat_bpf *upstream;

/* ---- the programs, re-executed under other uids ------------------------ */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void *holder(void *arg)
{
	__u64 *v = tld_get_data(static_key);

	if (v)
		*v = (long)arg;
	th_mark(0);
	say("%d %d\n", th_gettid(), tld_thread_status());
	if (arg == (void *)5001) {
		tld_thread_fini();
		say("%d\n", tld_thread_status());
	}
	pause();
	return NULL;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void spawn_holder(long value)
{
	pthread_t t;

	pthread_create(&t, NULL, holder, (void *)value);
	pthread_detach(t);
}

/*
 * victim: register the main thread with 4242 and say "tid status"; then per
 * command: 'w' mark and ack, 's' the main thread's status, 'n' how many
 * descriptors are open, 't' a thread holding 5000 ("tid status"), 'x' one
 * holding 5001 that then lets go ("tid status", "status"), 'f' a fork
 * child that writes 7777 ("tid status"), 'r' tld_refresh() ("ret"), 'e'
 * exec itself, 'F' tld_fini() ("status").
 */
static int victim_main(void)
{
	__u64 *v;
	char cmd;
	pid_t pid;

	th_capture();
	v = tld_get_data(static_key);
	if (v)
		*v = 4242;
	th_mark(0);
	say("%d %d\n", th_gettid(), v ? tld_thread_status() : -ENODATA);
	while (read(0, &cmd, 1) == 1) {
		switch (cmd) {
		case 'w':
			th_mark(0);
			say("k");
			break;
		case 's':
			say("%d\n", tld_thread_status());
			break;
		case 'n':
			say("%d\n", open_fds());
			break;
		case 'r':
			say("%d\n", tld_refresh());
			break;
		case 'F':
			tld_fini();
			say("%d\n", tld_thread_status());
			break;
		case 'e':
			execv(th_exe(), (char *[]){ "strict", "victim", NULL });
			return 5;
		case 't':
		case 'x':
			spawn_holder(cmd == 't' ? 5000 : 5001);
			break;
		case 'f':
			pid = fork();
			if (!pid) {
				*v = 7777;
				th_mark(0);
				say("%d %d\n", th_gettid(), tld_thread_status());
				pause();
				_exit(0);
			}
			break;
		}
	}
	return 0;
}

static pthread_barrier_t members_in;
static int member_err[64];

static void *member(void *arg)
{
	__u64 *v = tld_get_data(static_key);

	if (v)
		*v = 100 + (long)arg;
	member_err[(long)arg] = v ? tld_thread_status() : -ENODATA;
	pthread_barrier_wait(&members_in);
	pause();
	return NULL;
}

/*
 * member N: N threads register one after another; say "ok K quota Q" (Q:
 * messages naming tldd's limit), then hold them until stdin closes.
 */
static int member_main(int n)
{
	int i, ok = 0;
	pthread_t t;
	char c;

	th_capture();
	for (i = 0; i < n && i < 64; i++) {
		pthread_barrier_init(&members_in, NULL, 2);
		pthread_create(&t, NULL, member, (void *)(long)i);
		pthread_barrier_wait(&members_in);
		pthread_barrier_destroy(&members_in);
		ok += !member_err[i];
	}
	say("ok %d quota %d\n", ok, th_captured_count("--max-threads"));
	while (read(0, &c, 1) == 1)
		;
	return 0;
}

static int exit_held[2];

static void exit_hold(void *arg)
{
	(void)arg;
	if (write(exit_held[1], "x", 1) != 1)
		_exit(1);
	pause();
}

static void *exiter(void *arg)
{
	static pthread_key_t key;

	if (!tld_get_data(static_key) || pthread_key_create(&key, exit_hold) ||
	    pthread_setspecific(key, arg))
		_exit(1);
	return NULL;
}

/*
 * member-exit: 7 threads and an 8th register, tldd's limit; the 8th exits
 * and is held after libtld's destructor; the main thread then registers
 * and says "exit K E" (K of 7 registered, its error); hold until stdin
 * closes. The 8th exits the process if it fails to register.
 */
static int member_exit_main(void)
{
	int i, ok = 0;
	pthread_t t;
	char c;

	for (i = 0; i < 7; i++) {
		pthread_barrier_init(&members_in, NULL, 2);
		pthread_create(&t, NULL, member, (void *)(long)i);
		pthread_barrier_wait(&members_in);
		pthread_barrier_destroy(&members_in);
		ok += !member_err[i];
	}
	if (pipe(exit_held) || pthread_create(&t, NULL, exiter, (void *)1) ||
	    read(exit_held[0], &c, 1) != 1)
		return 1;
	say("exit %d %d\n", ok, tld_thread_init());
	while (read(0, &c, 1) == 1)
		;
	return 0;
}

/* ---- a raw client, as an attacker writes one ------------------------------ */

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return fd;
}

/* Send @len bytes of @req with @nfds descriptors; tldd's ret, or -1000. */
static int raw_call(int sock, struct tld_broker_req *req, size_t len, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] __attribute__((aligned(8))) = { 0 };
	struct iovec iov = { .iov_base = req, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct tld_broker_rep rep;
	struct cmsghdr *c;

	if (nfds) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 || recv(sock, &rep, sizeof(rep), 0) != sizeof(rep))
		return -1000;
	return rep.ret;
}

static struct tld_broker_req raw_req(enum tld_broker_op op, __u64 data_off)
{
	return (struct tld_broker_req){ .magic = TLD_BROKER_MAGIC, .version = TLD_BROKER_VERSION,
					.op = op, .data_off = data_off, .meta_off = 0,
					.start = TLD_DATA_HDR };
}

/* A store whose page 1 claims the victim's key holds 666; a connection that sent it. */
static int raw_hello(void)
{
	int sock = raw_connect(), fd = memfd_create("forged", MFD_ALLOW_SEALING);
	struct tld_broker_req req = raw_req(TLD_BROKER_HELLO, 0);
	struct tld_meta_u *meta;
	struct tld_data_u *data;

	if (sock < 0 || fd < 0 || ftruncate(fd, 2 * TLD_PAGE_SIZE) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -1;
	meta = mmap(NULL, 2 * TLD_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (meta == MAP_FAILED)
		return -1;
	strcpy(meta->metadata[0].name, "test.static");
	meta->metadata[0].size = 8;
	meta->cnt = 1;
	data = (struct tld_data_u *)((char *)meta + TLD_PAGE_SIZE);
	data->unused = TLD_COOKIE(1);
	*(__u64 *)data->data = PLANTED;
	if (raw_call(sock, &req, sizeof(req), &fd, 1))
		return -1;
	close(fd);
	return sock;
}

/* attack direct|broker VICTIM_TID: say what each attempt got. */
static int attack_main(const char *how, pid_t victim)
{
	struct tld_broker_req req;
	int map_fd, pidfd, sock;

	pidfd = th_thread_pidfd(victim);
	if (pidfd < 0)
		return 2;
	if (!strcmp(how, "direct")) {
		map_fd = bpf_obj_get(getenv("TLD_MAP_PATH"));
		say("open %d\n", map_fd < 0 ? -errno : 0);
		return 0;
	}
	sock = raw_hello();
	if (sock < 0)
		return 2;
	req = raw_req(TLD_BROKER_ATTACH, TLD_PAGE_SIZE);
	say("attach %d", raw_call(sock, &req, sizeof(req), &pidfd, 1));
	req = raw_req(TLD_BROKER_QUERY, 0);
	say(" query %d", raw_call(sock, &req, sizeof(req), &pidfd, 1));
	req = raw_req(TLD_BROKER_DETACH, 0);
	say(" detach %d\n", raw_call(sock, &req, sizeof(req), &pidfd, 1));
	return 0;
}

/* Until the kernel has let go of this process's thread @tid, and its number. */
static void wait_gone(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	while (!access(path, F_OK))
		sched_yield();
}

static volatile int pidfd_open_done;

/* Say its tid, and exit once the caller holds a pidfd for it. */
static void *exit_now(void *arg)
{
	__atomic_store_n((pid_t *)arg, th_gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&pidfd_open_done, __ATOMIC_ACQUIRE))
		sched_yield();
	return NULL;
}

/*
 * stale: a thread of ours exits, its pidfd kept; say its tid, wait for a
 * byte (the victim has a thread with that tid by then), then attach our
 * forged page with the old pidfd and say what tldd answered.
 */
static int stale_main(void)
{
	struct tld_broker_req req = raw_req(TLD_BROKER_ATTACH, TLD_PAGE_SIZE);
	int sock = raw_hello(), pidfd;
	pid_t tid = 0;
	pthread_t t;
	char c;

	if (sock < 0)
		return 2;
	pthread_create(&t, NULL, exit_now, &tid);
	while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE))
		sched_yield();
	pidfd = th_thread_pidfd(tid);
	__atomic_store_n(&pidfd_open_done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (pidfd < 0)
		return 2;
	/* pthread_join() returns before the kernel frees the tid. */
	wait_gone(tid);
	say("%d\n", tid);
	if (read(0, &c, 1) != 1)
		return 2;
	say("attach %d\n", raw_call(sock, &req, sizeof(req), &pidfd, 1));
	return 0;
}

static void send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8))) = { 0 };
	struct iovec iov = { .iov_base = "s", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &mh, 0) != 1)
		_exit(2);
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
	char b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int fd = -1;

	if (recvmsg(sock, &mh, 0) == 1 && CMSG_FIRSTHDR(&mh))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	return fd;
}

/*
 * handoff: a child connects to tldd, hands us its connection and exits;
 * say its pid. Then read a tid (a new process's, which has the child's
 * number by then) and attach our forged page to it on the dead child's
 * connection; say what tldd answered.
 */
static int handoff_main(void)
{
	struct tld_broker_req req = raw_req(TLD_BROKER_ATTACH, TLD_PAGE_SIZE);
	int sv[2], sock, pidfd;
	pid_t child;
	char line[32];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 2;
	child = fork();
	if (!child) {
		sock = raw_hello();
		if (sock < 0)
			_exit(2);
		send_fd(sv[1], sock);
		_exit(0);
	}
	sock = recv_fd(sv[0]);
	waitpid(child, NULL, 0);
	if (sock < 0)
		return 2;
	say("%d\n", child);
	if (!fgets(line, sizeof(line), stdin))
		return 2;
	pidfd = th_thread_pidfd(atoi(line));
	say("attach %d\n", pidfd < 0 ? -1000 : raw_call(sock, &req, sizeof(req), &pidfd, 1));
	return 0;
}

/* malformed: requests that are not requests; say each answer. */
static int malformed_main(void)
{
	struct tld_broker_req req = raw_req(TLD_BROKER_ATTACH, TLD_PAGE_SIZE);
	int sock = raw_hello(), pipes[2], self, two[2], plain;

	self = th_thread_pidfd(th_gettid());
	if (sock < 0 || self < 0 || pipe(pipes))
		return 2;
	two[0] = two[1] = self;
	say("short %d", raw_call(sock, &req, sizeof(req) - 1, &self, 1));
	say(" nofd %d", raw_call(sock, &req, sizeof(req), NULL, 0));
	say(" twofds %d", raw_call(sock, &req, sizeof(req), two, 2));
	say(" pipe %d", raw_call(sock, &req, sizeof(req), pipes, 1));
	req.data_off = TLD_BROKER_STORE_MAX;
	say(" offset %d", raw_call(sock, &req, sizeof(req), &self, 1));
	req = raw_req(TLD_BROKER_ATTACH, 64 * TLD_PAGE_SIZE);
	say(" pastend %d", raw_call(sock, &req, sizeof(req), &self, 1));
	req = raw_req(TLD_BROKER_HELLO, 0);
	plain = open("/proc/self/exe", O_RDONLY);
	close(sock);
	sock = raw_connect();
	say(" file %d", raw_call(sock, &req, sizeof(req), &plain, 1));
	req.op = 99;
	say(" op %d\n", raw_call(sock, &req, sizeof(req), &self, 1));
	return 0;
}

/* ---- the test ------------------------------------------------------------ */

/* One line (or @n bytes if n), without its newline; fatal at end of file. */
static char *proc_line(struct th_proc *p, char *buf, size_t len)
{
	size_t i = 0;
	char c;

	while (i < len - 1 && read(p->out, &c, 1) == 1 && c != '\n')
		buf[i++] = c;
	buf[i] = '\0';
	return buf;
}

static void proc_send(struct th_proc *p, char c)
{
	if (write(p->in, &c, 1) != 1)
		th_fatal("the process %d died", p->pid);
}

static int proc_stop(struct th_proc *p)
{
	int st;

	close(p->in);
	close(p->out);
	waitpid(p->pid, &st, 0);
	return st;
}

static const char *tldd_log(void)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s.log", sock_path);
	return path;
}

static void tldd_start(void)
{
	char threads[16], tldd[256];
	int fd, i;

	snprintf(threads, sizeof(threads), "%d", QUOTA);
	snprintf(tldd, sizeof(tldd), "%s/tldd", th_build_dir());
	tldd_pid = fork();
	if (!tldd_pid) {
		fd = open(tldd_log(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(tldd, "tldd", "--socket", sock_path, "--map", map.path,
		      "--max-threads", threads, "--max-pages", "100", "--verbose", (char *)NULL);
		_exit(4);
	}
	for (i = 0; i < 500; i++) {
		fd = raw_connect();
		if (fd >= 0) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	th_fatal("tldd did not start");
}

static void tldd_kill(void)
{
	kill(tldd_pid, SIGKILL);
	waitpid(tldd_pid, NULL, 0);
}

/* How many registrations the running tldd said it adopted. */
static int tldd_adopted(void)
{
	char line[512] = "";
	FILE *f = fopen(tldd_log(), "r");
	const char *p;

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	p = strstr(line, "; ");
	return p ? atoi(p + 2) : -1;
}

/* What each reader read for @tid: tld.bpf.h, unchecked, upstream (-1: none). */
static void read_all(struct th_proc *v, pid_t tid, __s64 out[3])
{
	struct th_result g = { 0 }, u = { 0 };
	struct th_compat_result c = { 0 };
	__u32 key = tid;

	proc_send(v, 'w');
	if (read(v->out, &(char){ 0 }, 1) != 1)
		th_fatal("the victim died");
	th_mark(tid);
	bpf_map__lookup_elem(guarded->maps.results, &key, sizeof(key), &g, sizeof(g), 0);
	bpf_map__lookup_elem(unguarded->maps.results, &key, sizeof(key), &u, sizeof(u), 0);
	bpf_map__lookup_elem(upstream->maps.compat_results, &key, sizeof(key), &c, sizeof(c), 0);
	out[0] = !g.init_err && g.off[TH_STATIC] > 0 ? (__s64)g.head[TH_STATIC] : g.init_err;
	out[1] = !u.init_err && u.off[TH_STATIC] > 0 ? (__s64)u.head[TH_STATIC] : u.init_err;
	out[2] = !c.init_err && (c.found & 1) ? (__s64)c.value_static : -1;
}

static void expect_reads(struct th_proc *v, pid_t tid, __s64 want, const char *when)
{
	__s64 got[3];

	read_all(v, tid, got);
	TH_CHECK(got[0] == want && got[1] == want && got[2] == want,
		 "%s: thread %d: tld.bpf.h %lld, unchecked %lld, upstream %lld; want %lld", when,
		 tid, got[0], got[1], got[2], want);
}

/* A process of uid 60001 that registered its main thread through tldd. */
static pid_t victim_start(struct th_proc *v, uid_t uid, const char *const *args)
{
	char line[64];
	int tid, st;

	th_spawn(v, uid, args);
	if (sscanf(proc_line(v, line, sizeof(line)), "%d %d", &tid, &st) != 2)
		th_fatal("the victim did not start: '%s'", line);
	TH_CHECK(st == 0, "the victim's registration through tldd: %d", st);
	return tid;
}

static void attacks(struct th_proc *v, pid_t victim)
{
	char line[128], arg[16];
	struct th_proc a;

	snprintf(arg, sizeof(arg), "%d", victim);
	th_spawn(&a, 65534, (const char *const[]){ "strict", "attack", "direct", arg, NULL });
	TH_CHECK(!strcmp(proc_line(&a, line, sizeof(line)), "open -13"),
		 "uid 65534 opening the 0600 map: '%s'", line);
	proc_stop(&a);
	th_spawn(&a, 65534, (const char *const[]){ "strict", "attack", "broker", arg, NULL });
	TH_CHECK(!strcmp(proc_line(&a, line, sizeof(line)), "attach -1 query -1 detach -1"),
		 "uid 65534 through tldd with the victim's pidfd: '%s', want EPERM each", line);
	proc_stop(&a);
	expect_reads(v, victim, 4242, "after the attacks");
}

static void set_last_pid(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");

	if (!f || fprintf(f, "%d", pid) < 0 || fclose(f))
		th_fatal("ns_last_pid: %m");
}

/* Make the victim's next thread take tid @tid; its tid, and @tid if it did. */
static pid_t reuse_tid(struct th_proc *v, pid_t tid)
{
	char line[64];
	int got = 0, st;

	set_last_pid(tid - 1);
	proc_send(v, 't');
	if (sscanf(proc_line(v, line, sizeof(line)), "%d %d", &got, &st) != 2 || st)
		th_fatal("the victim's thread did not register: '%s'", line);
	return got;
}

/* An attacker thread exits; the victim's new thread takes its tid. */
static void stale_pidfd(struct th_proc *v)
{
	char line[64];
	struct th_proc a;
	pid_t tid = 0;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		th_spawn(&a, 65534, (const char *const[]){ "strict", "stale", NULL });
		tid = atoi(proc_line(&a, line, sizeof(line)));
		if (tid <= 1)
			th_fatal("the attacker did not start: '%s'", line);
		if (reuse_tid(v, tid) == tid)
			break;
		proc_stop(&a);	/* another task took the tid first: set it up again */
		tid = 0;
	}
	if (!tid)
		th_fatal("could not give the victim's thread an exited attacker thread's tid");
	proc_send(&a, 'g');
	TH_CHECK(!strcmp(proc_line(&a, line, sizeof(line)), "attach -3"),
		 "an exited thread's pidfd, its tid now the victim's: '%s', want ESRCH", line);
	proc_stop(&a);
	expect_reads(v, tid, 5000, "the victim's thread with the reused tid");
}

/*
 * A connection whose process exited, held by another: the new process that
 * takes its number is not its caller.
 */
static void dead_caller(void)
{
	char line[64];
	struct th_proc h, v;
	pid_t dead = 0, tid = 0;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		th_spawn(&h, 65534, (const char *const[]){ "strict", "handoff", NULL });
		dead = atoi(proc_line(&h, line, sizeof(line)));
		set_last_pid(dead - 1);
		tid = victim_start(&v, 60001, (const char *const[]){ "strict", "victim", NULL });
		if (tid == dead)
			break;
		proc_stop(&v);
		proc_stop(&h);	/* another task took the number first: set it up again */
	}
	if (tid != dead)
		th_fatal("no victim got the number %d of the process that connected", dead);
	snprintf(line, sizeof(line), "%d\n", tid);
	if (write(h.in, line, strlen(line)) < 0)
		th_fatal("handoff died");
	TH_CHECK(!strcmp(proc_line(&h, line, sizeof(line)), "attach -3"),
		 "an attach for process %d on the connection of the process %d was: '%s', want ESRCH",
		 tid, dead, line);
	proc_stop(&h);
	expect_reads(&v, tid, 4242, "the process that took a dead caller's number");
	proc_stop(&v);
}

static void malformed(struct th_proc *v, pid_t victim)
{
	char line[256];
	struct th_proc a;

	th_spawn(&a, 65534, (const char *const[]){ "strict", "malformed", NULL });
	TH_CHECK(!strcmp(proc_line(&a, line, sizeof(line)),
			 "short -71 nofd -71 twofds -71 pipe -9 offset -22 pastend -14 file -22 op -95"),
		 "malformed requests: '%s'", line);
	proc_stop(&a);
	expect_reads(v, victim, 4242, "after the malformed requests");
}

/* A member process of @uid registering @n threads; its "ok K quota Q". */
static void member_run(struct th_proc *m, uid_t uid, int n, const char *want)
{
	char line[64], arg[16];

	snprintf(arg, sizeof(arg), "%d", n);
	th_spawn(m, uid, (const char *const[]){ "strict", "member", arg, NULL });
	TH_CHECK(!strcmp(proc_line(m, line, sizeof(line)), want),
		 "uid %u registering %d threads: '%s', want '%s'", uid, n, line, want);
}

static void quota_and_restart(struct th_proc *v, pid_t victim)
{
	struct th_proc m1, m2, m3;
	char line[64];
	__s64 got[3];
	int tid, st;

	member_run(&m1, 60002, 10, "ok 8 quota 1");
	member_run(&m2, 60003, 2, "ok 2 quota 0");
	tldd_kill();
	tldd_start();
	/* the victim's main thread and its reused-tid thread, 8 and 2 */
	TH_CHECK(tldd_adopted() == 12, "the restarted tldd adopted %d registrations, want 12",
		 tldd_adopted());
	expect_reads(v, victim, 4242, "after tldd restarted");
	member_run(&m3, 60002, 1, "ok 0 quota 1");
	proc_stop(&m3);
	proc_stop(&m1);
	member_run(&m3, 60002, 3, "ok 3 quota 0");
	proc_stop(&m3);
	proc_stop(&m2);
	th_spawn(&m3, 60004, (const char *const[]){ "strict", "member-exit", NULL });
	TH_CHECK(!strcmp(proc_line(&m3, line, sizeof(line)), "exit 7 0"),
		 "uid 60004 at the limit, one thread exiting: '%s', want 'exit 7 0'", line);
	proc_stop(&m3);
	proc_send(v, 's');
	TH_CHECK(atoi(proc_line(v, line, sizeof(line))) == 0,
		 "the victim's status through the new tldd: %s", line);
	proc_send(v, 'x');
	if (sscanf(proc_line(v, line, sizeof(line)), "%d %d", &tid, &st) != 2)
		th_fatal("the victim's thread: '%s'", line);
	TH_CHECK(st == 0 && atoi(proc_line(v, line, sizeof(line))) == -ENODATA,
		 "register and let go through the new tldd: %d, then %s", st, line);
	read_all(v, tid, got);
	TH_CHECK(got[0] == -ENODATA && got[1] == -ENODATA,
		 "a thread that let go: tld.bpf.h %lld, unchecked %lld; want -ENODATA", got[0], got[1]);
}

/* tldd dies in the middle of a thread's registration: that thread's tid. */
static pid_t tldd_dies(struct th_proc *v)
{
	char line[64];
	int fds, tid, st;

	proc_send(v, 'n');
	fds = atoi(proc_line(v, line, sizeof(line)));
	kill(tldd_pid, SIGSTOP);
	proc_send(v, 't');
	usleep(200000);
	tldd_kill();
	if (sscanf(proc_line(v, line, sizeof(line)), "%d %d", &tid, &st) != 2)
		th_fatal("the victim's thread: '%s'", line);
	/*
	 * Reset if tldd died with the request unread, refused on the retry's
	 * connect; or EPIPE, if that connect reached the dying tldd's
	 * listener before its exit closed it (seen in the 7.3 VM).
	 */
	TH_CHECK(st == -ECONNREFUSED || st == -ECONNRESET || st == -EPIPE,
		 "tldd killed in the middle of a request: %d, want -ECONNREFUSED, -ECONNRESET or -EPIPE",
		 st);
	proc_send(v, 'n');
	/* The dead connection is closed; nothing else stays open. */
	TH_CHECK(atoi(proc_line(v, line, sizeof(line))) == fds - 1,
		 "descriptors before %d (one the connection to tldd), after %s", fds, line);
	tldd_start();
	return tid;
}

/*
 * tld_refresh() registers the thread whose registration failed while tldd
 * was down; exec gives a new image its own registration; tld_fini() takes
 * the entry away, all through tldd.
 */
static void lifecycle(struct th_proc *v, pid_t victim, pid_t failed)
{
	char line[64];
	__s64 got[3];
	int tid, st;

	/* Its tld_get_data() failed, so it stored nothing: the entry reads 0. */
	read_all(v, failed, got);
	TH_CHECK(got[0] == -ENODATA && got[1] == -ENODATA,
		 "before tld_refresh(): tld.bpf.h %lld, unchecked %lld; want -ENODATA", got[0], got[1]);
	proc_send(v, 'r');
	TH_CHECK(atoi(proc_line(v, line, sizeof(line))) >= 2, "tld_refresh() through tldd: %s", line);
	read_all(v, failed, got);
	TH_CHECK(got[0] == 0 && got[1] == 0,
		 "after tld_refresh(): tld.bpf.h %lld, unchecked %lld; want its entry, 0", got[0], got[1]);
	proc_send(v, 'e');
	if (sscanf(proc_line(v, line, sizeof(line)), "%d %d", &tid, &st) != 2)
		th_fatal("the exec'd victim: '%s'", line);
	TH_CHECK(tid == victim && st == 0, "after exec: thread %d, status %d", tid, st);
	expect_reads(v, victim, 4242, "after exec");
	proc_send(v, 'F');
	TH_CHECK(atoi(proc_line(v, line, sizeof(line))) == -ESHUTDOWN, "after tld_fini(): %s", line);
	read_all(v, victim, got);
	TH_CHECK(got[0] == -ENODATA && got[1] == -ENODATA,
		 "after tld_fini(): tld.bpf.h %lld, unchecked %lld; want -ENODATA", got[0], got[1]);
}

static void fork_child(struct th_proc *v, pid_t victim)
{
	char line[64];
	int tid, st;

	proc_send(v, 'f');
	if (sscanf(proc_line(v, line, sizeof(line)), "%d %d", &tid, &st) != 2)
		th_fatal("the fork child: '%s'", line);
	TH_CHECK(st == 0, "the fork child's registration: %d", st);
	expect_reads(v, tid, 7777, "the fork child");
	expect_reads(v, victim, 4242, "its parent");
	kill(tid, SIGKILL);	/* the victim's child: it reaps it */
}

/* No bpffs in sight: a user and mount namespace, tmpfs over /sys/fs/bpf. */
static void no_bpffs(void)
{
	static const char *const wrap[] = {
		"/usr/bin/unshare", "-Urm", "sh", "-c",
		"mount -t tmpfs none /sys/fs/bpf && exec \"$0\" victim", NULL, NULL
	};
	const char *args[7];
	struct th_proc v;
	pid_t tid;

	if (system("setpriv --reuid 60003 --regid 60003 --clear-groups unshare -Urm true 2>/dev/null")) {
		printf("user namespaces are refused here: a container without bpffs is not tested\n");
		return;
	}
	memcpy(args, wrap, sizeof(wrap));
	args[5] = th_exe();
	tid = victim_start(&v, 60003, args);
	expect_reads(&v, tid, 4242, "a process without bpffs, through the socket");
	proc_stop(&v);
}

static void phase(const char *name)
{
	printf("%s\n", name);
	fflush(stdout);
}

static void *load(struct bpf_object_skeleton *s)
{
	int err = tld_loader_load_skeleton(s, NULL);

	if (err)
		th_fatal("load a reader: %d", err);
	return s;
}

/*
 * A thread sleeps until tldd has updated its entry, and the guard sweeps at
 * its wakeup: libtld announces first, so nothing registered was swept.
 */
static void expect_unswept(void)
{
	struct tld_guard_state st;

	th_guard_state(&map, &st);
	TH_CHECK(!st.swept, "the guard swept %llu entries tldd registered: they were not announced",
		 (unsigned long long)st.swept);
}

int main(int argc, char **argv)
{
	struct th_proc v;
	pid_t victim, failed;

	snprintf(sock_path, sizeof(sock_path), "%s", getenv("TLD_SOCKET") ? getenv("TLD_SOCKET") : "");
	if (argc == 2 && !strcmp(argv[1], "victim"))
		return victim_main();
	if (argc == 3 && !strcmp(argv[1], "member"))
		return member_main(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "member-exit"))
		return member_exit_main();
	if (argc == 4 && !strcmp(argv[1], "attack"))
		return attack_main(argv[2], atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "stale"))
		return stale_main();
	if (argc == 2 && !strcmp(argv[1], "malformed"))
		return malformed_main();
	if (argc == 2 && !strcmp(argv[1], "handoff"))
		return handoff_main();

	th_map_create(&map, "--mode 0600");
	snprintf(sock_path, sizeof(sock_path), "/tmp/tld-strict-%d.sock", getpid());
	setenv("TLD_SOCKET", sock_path, 1);
	tldd_start();
	guarded = th_reader_load();
	unguarded = reader_unvouched_bpf__open();
	upstream = compat_bpf__open();
	if (!unguarded || !upstream)
		th_fatal("open the readers: %m");
	load(unguarded->skeleton);
	load(upstream->skeleton);
	/* The upstream reader reads only a thread that marks itself: the victims do. */
	th_ack_watch(unguarded->bss->th_acks);

	victim = victim_start(&v, 60001, (const char *const[]){ "strict", "victim", NULL });
	expect_reads(&v, victim, 4242, "registered through tldd");
	expect_unswept();
	phase("attacks");
	attacks(&v, victim);
	phase("stale_pidfd");
	stale_pidfd(&v);
	phase("dead_caller");
	dead_caller();
	phase("malformed");
	malformed(&v, victim);
	phase("quota_and_restart");
	quota_and_restart(&v, victim);
	phase("tldd_dies");
	failed = tldd_dies(&v);
	phase("fork_child");
	fork_child(&v, victim);
	phase("lifecycle");
	lifecycle(&v, victim, failed);
	proc_stop(&v);
	phase("no_bpffs");
	no_bpffs();

	th_ack_unwatch(unguarded->bss->th_acks);
	compat_bpf__destroy(upstream);
	reader_unvouched_bpf__destroy(unguarded);
	th_reader_destroy(guarded);
	tldd_kill();
	unlink(sock_path);
	unlink(tldd_log());
	th_map_remove(&map);
	th_done();
}
