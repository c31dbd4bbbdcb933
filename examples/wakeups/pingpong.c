// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two threads that hand a token back and forth through pipes: "ping" wakes
 * "pong", which wakes "ping". Each publishes its role.
 *
 *	pingpong [ROUNDS]
 *
 * Prints "rounds=N" at the end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <tld/tld.h>

#include "wakeups.h"

TLD_DEFINE_KEY(role_key, ROLE_KEY, sizeof(__u64));

static int to_pong[2], to_ping[2];
static int rounds = 10000;

static void *pong(void *arg)
{
	char c;

	(void)arg;
	*(__u64 *)tld_get_data(role_key) = ROLE_PONG;
	while (read(to_pong[0], &c, 1) == 1 && write(to_ping[1], &c, 1) == 1)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	char c = 'x';
	int i;

	if (argc > 1)
		rounds = atoi(argv[1]);
	if (pipe(to_pong) || pipe(to_ping))
		return 1;
	*(__u64 *)tld_get_data(role_key) = ROLE_PING;
	pthread_create(&t, NULL, pong, NULL);
	for (i = 0; i < rounds; i++)
		if (write(to_pong[1], &c, 1) != 1 || read(to_ping[0], &c, 1) != 1)
			return 1;
	close(to_pong[1]);
	pthread_join(t, NULL);
	printf("rounds=%d\n", rounds);
	return 0;
}
