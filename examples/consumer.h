/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the example consumers share: their command line, and running the
 * workload they watch with its output in a pipe.
 */
#ifndef EXAMPLES_CONSUMER_H
#define EXAMPLES_CONSUMER_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * "NAME [--map PATH] -- COMMAND [ARGS...]": sets *map_path (NULL: the
 * default map) and returns the index of COMMAND in @argv, or -1 after
 * printing the usage.
 */
static inline int consumer_args(int argc, char **argv, const char **map_path)
{
	int i = 1;

	*map_path = NULL;
	if (argc > 2 && !strcmp(argv[1], "--map")) {
		*map_path = argv[2];
		i = 3;
	}
	if (i >= argc || strcmp(argv[i], "--") || i + 1 >= argc) {
		fprintf(stderr, "usage: %s [--map PATH] -- COMMAND [ARGS...]\n", argv[0]);
		return -1;
	}
	return i + 1;
}

/* Start @argv with its stdout in *out; its pid, or -1. */
static inline pid_t consumer_spawn(char **argv, FILE **out)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*out = pid > 0 ? fdopen(fds[0], "r") : NULL;
	return pid;
}

#endif
