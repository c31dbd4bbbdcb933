// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread held registered, for the tests that use one. Apart from
 * harness.c, so that only those tests link libtld for it: test/unload
 * checks that a program that never calls libtld does not load it.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void *th_held_main(void *arg)
{
	struct th_held *h = arg;
	char c;

	if (tld_thread_init())
		th_fatal("a held thread did not register");
	if (write(h->ready[1], "r", 1) != 1 || read(h->release[0], &c, 1) < 0)
		th_fatal("held thread: %s", strerror(errno));
	return NULL;
}

void th_held_start(struct th_held *h)
{
	char c;

	if (pipe(h->ready) || pipe(h->release) || pthread_create(&h->thread, NULL, th_held_main, h) ||
	    read(h->ready[0], &c, 1) != 1)
		th_fatal("held thread: %s", strerror(errno));
}

void th_held_end(struct th_held *h)
{
	close(h->release[1]);
	pthread_join(h->thread, NULL);
	close(h->release[0]);
	close(h->ready[0]);
	close(h->ready[1]);
}
