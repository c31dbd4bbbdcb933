// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A server whose workers take requests from a queue. Before serving one, a
 * worker stores (id, tenant) in its "request" hint: one plain 8-byte store,
 * no system call. Request i makes 5 + i % 7 system calls and, when i % 4 is
 * not 0, sleeps 2 ms times i % 4, standing for I/O.
 *
 *	server [WORKERS [REQUESTS]]
 *
 * At the end it prints, per request:
 *	served id=ID tenant=T syscalls=N slept_us=U
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <tld/tld.h>

#include "requests.h"

TLD_DEFINE_KEY(request_key, REQUEST_KEY, sizeof(struct req_key));

struct request {
	struct req_key key;
	unsigned int syscalls;
	unsigned int slept_us;
};

static struct request *requests;
static int nrequests;
static int next_request;

static void serve(const struct request *r)
{
	unsigned int i;

	for (i = 0; i < r->syscalls; i++)
		syscall(SYS_getppid);
	if (r->slept_us)
		usleep(r->slept_us);
}

static void *worker(void *arg)
{
	__u64 *current = tld_get_data(request_key), word;
	int i;

	(void)arg;
	if (!current)
		return NULL;
	while ((i = __atomic_fetch_add(&next_request, 1, __ATOMIC_RELAXED)) < nrequests) {
		/* One 8-byte store: BPF never sees one request's id with another's tenant. */
		memcpy(&word, &requests[i].key, sizeof(word));
		*current = word;
		serve(&requests[i]);
	}
	*current = 0;
	return NULL;
}

int main(int argc, char **argv)
{
	int nworkers = argc > 1 ? atoi(argv[1]) : 4, i;
	pthread_t *workers;

	nrequests = argc > 2 ? atoi(argv[2]) : 60;
	if (nworkers < 1 || nrequests < 1) {
		fprintf(stderr, "usage: server [WORKERS [REQUESTS]]\n");
		return 2;
	}
	requests = calloc(nrequests, sizeof(*requests));
	workers = calloc(nworkers, sizeof(*workers));
	for (i = 0; i < nrequests; i++)
		requests[i] = (struct request){ { i + 1, i % 3 + 1 }, 5 + i % 7, i % 4 * 2000 };
	for (i = 0; i < nworkers; i++)
		pthread_create(&workers[i], NULL, worker, NULL);
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	for (i = 0; i < nrequests; i++)
		printf("served id=%u tenant=%u syscalls=%u slept_us=%u\n", requests[i].key.id,
		       requests[i].key.tenant, requests[i].syscalls, requests[i].slept_us);
	free(workers);
	free(requests);
	return 0;
}
