/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the example consumers share: their main(). Each loads its BPF
 * skeleton against the tld map, runs the workload it watches with its
 * output in a pipe, and checks what BPF saw against what the workload
 * printed. A consumer provides only the last part, as struct consumer.
 */
#ifndef EXAMPLES_CONSUMER_H
#define EXAMPLES_CONSUMER_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tld/loader.h>

struct consumer {
	/* Called with each line the workload prints. */
	void (*line)(const char *line);
	/*
	 * Called with the consumer's skeleton once the workload has exited:
	 * prints what BPF saw, and returns the exit status.
	 */
	int (*report)(void *skel);
};

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

/* In the child: run @argv with its stdout the write end of @fds. */
static inline void consumer_exec(char **argv, int fds[2])
{
	dup2(fds[1], STDOUT_FILENO);
	close(fds[0]);
	close(fds[1]);
	execvp(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Run @argv to its end, passing each line it prints to @c. 0 or -errno. */
static inline int consumer_watch(char **argv, const struct consumer *c)
{
	char line[256];
	int fds[2], st, err = 0;
	FILE *out;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (!pid)
		consumer_exec(argv, fds);
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	close(fds[1]);
	out = fdopen(fds[0], "r");
	if (!out) {
		err = -errno;
		close(fds[0]);
		goto reap;
	}
	while (fgets(line, sizeof(line), out))
		c->line(line);
	fclose(out);
reap:
	waitpid(pid, &st, 0);
	return err;
}

/*
 * The main() of every consumer: @s and @skel are its skeleton, just
 * opened (NULL if that failed, errno says why).
 */
static inline int consumer_main(int argc, char **argv, struct bpf_object_skeleton *s, void *skel,
				const struct consumer *c)
{
	const char *map_path;
	int i, err;

	err = s ? 0 : -errno;
	i = consumer_args(argc, argv, &map_path);
	if (i < 0)
		return 2;
	if (!err)
		err = tld_loader_load_skeleton(s, map_path);
	if (err) {
		fprintf(stderr, "%s: cannot load the BPF consumer: %s\n",
			program_invocation_short_name, strerror(-err));
		return 1;
	}
	err = consumer_watch(argv + i, c);
	if (err) {
		fprintf(stderr, "%s: cannot run %s: %s\n", program_invocation_short_name, argv[i],
			strerror(-err));
		return 1;
	}
	return c->report(skel);
}

/*
 * Define main() for the consumer whose skeleton is NAME_bpf (NAME.skel.h)
 * and which does what @consumer says.
 */
#define CONSUMER_MAIN(NAME, consumer)						\
int main(int argc, char **argv)							\
{										\
	struct NAME##_bpf *skel = NAME##_bpf__open();				\
	int err;								\
										\
	err = consumer_main(argc, argv, skel ? skel->skeleton : NULL, skel,	\
			    consumer);						\
	NAME##_bpf__destroy(skel);						\
	return err;								\
}

#endif
