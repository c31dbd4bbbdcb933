// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * An application whose threads say what they are: latency-critical, normal
 * or batch, and which request they serve. Each hint is a plain store; no
 * system call is made to publish it.
 *
 *	hints [THREADS [SECONDS]]
 *
 * At the end each thread prints what it wrote, one line each:
 *	wrote tid=TID class=CLASS requests=N
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <tld/tld.h>

#include "hints.h"

TLD_DEFINE_KEY(class_key, HINT_CLASS_KEY, sizeof(__u64));
TLD_DEFINE_KEY(request_key, HINT_REQUEST_KEY, sizeof(__u64));

static double seconds = 3;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin(double s)
{
	double end = now() + s;

	while (now() < end)
		;
}

/* Latency threads run briefly and often, batch threads run long. */
static void serve(int class)
{
	switch (class) {
	case HINT_LATENCY:
		spin(50e-6);
		usleep(500);
		break;
	case HINT_NORMAL:
		spin(2e-3);
		usleep(1000);
		break;
	default:
		spin(20e-3);
		break;
	}
}

static void *worker(void *arg)
{
	int class = (long)arg % HINT_CLASSES;
	__u64 *hint = tld_get_data(class_key), *request = tld_get_data(request_key);
	double end = now() + seconds;

	if (!hint || !request) {
		fprintf(stderr, "hints: thread cannot publish (see the message above)\n");
		return NULL;
	}
	*hint = class;
	while (now() < end) {
		++*request;
		serve(class);
	}
	pthread_mutex_lock(&out_lock);
	printf("wrote tid=%ld class=%s requests=%llu\n", syscall(SYS_gettid),
	       hint_class_name(class), (unsigned long long)*request);
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 6;
	pthread_t *threads;
	long i;

	if (argc > 2)
		seconds = atof(argv[2]);
	if (n < 1 || seconds <= 0) {
		fprintf(stderr, "usage: hints [THREADS [SECONDS]]\n");
		return 2;
	}
	threads = calloc(n, sizeof(*threads));
	for (i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, worker, (void *)i);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	return 0;
}
