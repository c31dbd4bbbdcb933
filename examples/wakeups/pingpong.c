// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two threads that hand a turn back and forth: "ping" wakes "pong", which
 * wakes "ping". Each publishes its role.
 *
 *	pingpong [ROUNDS]
 *
 * A thread hands the turn over only once the other sleeps waiting for it,
 * so that every handoff is a wakeup however the threads are scheduled:
 * ping wakes pong ROUNDS times, and pong wakes ping ROUNDS times, plus once
 * if ping is still in pthread_join() when pong exits. Prints "rounds=N" at
 * the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <tld/tld.h>

#include "wakeups.h"

TLD_DEFINE_KEY(role_key, ROLE_KEY, sizeof(__u64));

/* The role whose turn it is, and the futex the other sleeps on. */
static unsigned int turn = ROLE_PING;
/* Set once the thread of a role sleeps nowhere but on turn. */
static pid_t tids[ROLES];
static int rounds = 10000;

/* Whether the thread of @role sleeps, as /proc says: 1, 0 or -errno. */
static int asleep(unsigned int role)
{
	pid_t tid = __atomic_load_n(&tids[role], __ATOMIC_ACQUIRE);
	char path[64], stat[512], *state;
	ssize_t n;
	int fd, err;

	if (!tid)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, stat, sizeof(stat) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	stat[n] = '\0';
	/* "TID (COMM) STATE ...", where COMM may hold anything. */
	state = strrchr(stat, ')');
	return state && state[1] == ' ' && state[2] == 'S';
}

static void wait_turn(unsigned int me)
{
	unsigned int t;

	while ((t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) != me)
		syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, t, NULL, NULL, 0);
}

/*
 * A futex waiter shows as sleeping only once it found turn unchanged, and
 * nothing else wakes it: once @peer sleeps, the wake below is certainly
 * what ends its sleep, a wakeup. The yield lets the peer get to sleep when
 * both share a CPU.
 */
static int pass_turn(unsigned int peer)
{
	int ret;

	while (!(ret = asleep(peer)))
		sched_yield();
	if (ret < 0)
		return ret;
	__atomic_store_n(&turn, peer, __ATOMIC_RELEASE);
	syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return 0;
}

/* A thread that cannot pass the turn would leave the other asleep: exit. */
static void play(unsigned int me, unsigned int peer)
{
	int i, err;

	__atomic_store_n(&tids[me], gettid(), __ATOMIC_RELEASE);
	for (i = 0; i < rounds; i++) {
		wait_turn(me);
		err = pass_turn(peer);
		if (err) {
			fprintf(stderr, "pingpong: cannot tell whether a thread sleeps: %s\n",
				strerror(-err));
			exit(1);
		}
	}
}

static void *pong(void *arg)
{
	(void)arg;
	*(__u64 *)tld_get_data(role_key) = ROLE_PONG;
	play(ROLE_PONG, ROLE_PING);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1)
		rounds = atoi(argv[1]);
	*(__u64 *)tld_get_data(role_key) = ROLE_PING;
	if (pthread_create(&t, NULL, pong, NULL))
		return 1;
	play(ROLE_PING, ROLE_PONG);
	/* Pong's last handoff waits for ping to sleep on turn, not in the join. */
	wait_turn(ROLE_PING);
	pthread_join(t, NULL);
	printf("rounds=%d\n", rounds);
	return 0;
}
