// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Shutdown while other threads use libtld: a process must never crash at
 * exit because it linked libtld, nor when it calls tld_fini() while its
 * threads create keys and register. Each round is a fresh child process in
 * which two threads create keys and register in a loop while the main
 * thread, once both are inside that loop, either calls tld_fini() (then the
 * threads must see -ESHUTDOWN and NULL, and exit cleanly) or exit()s (the
 * unload destructor runs tld_fini()).
 *
 * Checked to fail: with the tld__enter() gate removed from tld_key_make(),
 * the tld_fini() shape crashed in 61 of 400 rounds (SIGSEGV in
 * tld_key_claim()). With fini clearing only its own tld__thread_base, the
 * threads' "saw the shutdown" checks fail.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS		400
#define NTHREADS	2
#define NKEYS		40

enum shape { SHAPE_FINI, SHAPE_EXIT };

static volatile int running;
static volatile bool finished;

/* Exit statuses of a round's child, besides 0. */
enum { BAD_AFTER_FINI = 2, BAD_KEY = 3 };

static void *creator(void *arg)
{
	char name[16];
	bool counted = false;
	tld_key_t key;
	__u64 *p;
	int i = (int)(long)arg;

	for (;;) {
		snprintf(name, sizeof(name), "race%d", i++ % NKEYS);
		key = tld_create_key(name, sizeof(__u64));
		p = tld_get_data(key);
		if (p)
			*p = i;
		if (!counted) {
			__atomic_add_fetch(&running, 1, __ATOMIC_SEQ_CST);
			counted = true;
		}
		if (!__atomic_load_n(&finished, __ATOMIC_SEQ_CST))
			continue;
		/* tld_fini() has returned: every call must say so. */
		if (tld_key_err(tld_create_key(name, sizeof(__u64))) != -ESHUTDOWN)
			_exit(BAD_KEY);
		if (tld_get_data(key) || tld_thread_init() != -ESHUTDOWN)
			_exit(BAD_AFTER_FINI);
		return NULL;
	}
}

static void round_child(enum shape shape)
{
	pthread_t t[NTHREADS];
	long i;

	tld_set_print(NULL);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, creator, (void *)(i * 7));
	while (__atomic_load_n(&running, __ATOMIC_SEQ_CST) < NTHREADS)
		;
	if (shape == SHAPE_EXIT)
		exit(0);
	tld_fini();
	__atomic_store_n(&finished, true, __ATOMIC_SEQ_CST);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	_exit(0);
}

static void rounds(enum shape shape, const char *what)
{
	int i, status, crashed = 0, wrong = 0;
	pid_t pid;

	fflush(stdout);
	for (i = 0; i < ROUNDS; i++) {
		pid = fork();
		if (pid < 0)
			th_fatal("fork: %m");
		if (!pid)
			round_child(shape);
		if (waitpid(pid, &status, 0) != pid)
			th_fatal("waitpid: %m");
		if (WIFSIGNALED(status))
			crashed++;
		else if (WEXITSTATUS(status))
			wrong++;
	}
	TH_CHECK(!crashed && !wrong, "%s: %d of %d rounds crashed, %d saw a call succeed after tld_fini()",
		 what, crashed, ROUNDS, wrong);
	printf("%s: %d rounds, none crashed\n", what, ROUNDS);
}

int main(void)
{
	struct th_map map;

	th_map_create(&map, NULL);
	rounds(SHAPE_FINI, "tld_fini() while two threads create keys and register");
	rounds(SHAPE_EXIT, "exit() while two threads create keys and register");
	th_map_remove(&map);
	th_done();
}
