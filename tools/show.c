// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool show [PID|--all] and tldtool keys PID: every registered thread's
 * keys and values, read by a task iterator from the kernel side.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tldtool.h"

struct show {
	struct tldtool *t;
	unsigned int threads;
	pid_t last_tgid;
};

static void show_text(const struct tld_record *r, const struct key_view *keys, int n,
		      struct show *s)
{
	struct value_type vt;
	int i;

	if (r->head.tgid != (__u32)s->last_tgid)
		printf("%sPID %u\n", s->threads ? "\n" : "", r->head.tgid);
	printf("  %-8u ", r->head.tid);
	print_escaped(stdout, r->head.comm, sizeof(r->head.comm), 16);
	for (i = 0; i < n; i++) {
		putchar(' ');
		print_escaped(stdout, keys[i].name, sizeof(keys[i].name), 0);
		putchar('=');
		if (!keys[i].in_page) {
			printf("(past the page)");
			continue;
		}
		value_type(keys[i].name, r->data + keys[i].at, keys[i].size, &vt);
		value_print(stdout, &vt, r->data + keys[i].at, keys[i].size);
	}
	if (r->head.vouched)
		putchar('\n');
	else if (r->head.leaving)
		printf("  [leaving: the thread is exiting]\n");
	else
		printf("  [NOT VOUCHED: written by another process?]\n");
}

static void show_json(const struct tld_record *r, const struct key_view *keys, int n,
		      struct json *j)
{
	struct value_type vt;
	int i;

	json_object_start(j, NULL);
	json_uint(j, "tid", r->head.tid);
	json_uint(j, "pid", r->head.tgid);
	json_str(j, "comm", r->head.comm);
	json_bool(j, "vouched", r->head.vouched);
	if (r->head.leaving)
		json_bool(j, "leaving", true);
	json_array_start(j, "keys");
	for (i = 0; i < n; i++) {
		json_object_start(j, NULL);
		json_str(j, "name", keys[i].name);
		json_uint(j, "size", keys[i].size);
		json_uint(j, "offset", keys[i].at - r->head.start);
		if (keys[i].in_page) {
			value_type(keys[i].name, r->data + keys[i].at, keys[i].size, &vt);
			json_str(j, "type", value_kind_name(&vt));
			value_json(j, "value", &vt, r->data + keys[i].at, keys[i].size);
		}
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static int show_record(const struct tld_record *r, void *ctx)
{
	struct key_view keys[TLD_MAX_KEYS];
	struct show *s = ctx;
	int n = record_keys(r, keys);

	if (s->t->json)
		show_json(r, keys, n, &s->t->j);
	else
		show_text(r, keys, n, s);
	s->last_tgid = r->head.tgid;
	s->threads++;
	return 0;
}

/* The map opens, @pid exists: else a message and the exit status. */
static int show_check(struct tldtool *t, pid_t pid)
{
	int fd = tld__map_open(tldtool_map_path(t));

	if (fd < 0)
		return TLDTOOL_ERROR;
	close(fd);
	if (pid && kill(pid, 0) && errno == ESRCH) {
		tldtool_err(0, "no process %d", pid);
		return TLDTOOL_NO_PROCESS;
	}
	return TLDTOOL_OK;
}

static int dump_error(int err)
{
	if (err == -EPERM || err == -EACCES) {
		tldtool_err(err, "reading other processes' hints needs CAP_BPF and CAP_PERFMON (run as root)");
		return TLDTOOL_PERM;
	}
	tldtool_err(err, "cannot read the map's entries");
	return TLDTOOL_ERROR;
}

static int parse_pid(const char *arg, pid_t *pid)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || v <= 0) {
		tldtool_err(0, "%s is not a process id", arg);
		return TLDTOOL_USAGE;
	}
	*pid = v;
	return TLDTOOL_OK;
}

int tldtool_show(struct tldtool *t, int argc, char **argv)
{
	struct show s = { .t = t };
	pid_t pid = 0;
	int ret, err;

	if (argc > 1 || (argc == 1 && strcmp(argv[0], "--all") &&
			 (ret = parse_pid(argv[0], &pid))))
		return argc > 1 ? TLDTOOL_USAGE : ret;
	ret = show_check(t, pid);
	if (ret)
		return ret;
	if (t->json)
		json_array_start(&t->j, NULL);
	err = tldtool_dump(tldtool_map_path(t), pid, show_record, &s);
	if (t->json)
		json_array_end(&t->j);
	if (err)
		return dump_error(err);
	if (pid && !s.threads) {
		tldtool_err(0, "process %d has no tld data", pid);
		return TLDTOOL_NO_DATA;
	}
	return TLDTOOL_OK;
}

static int keys_record(const struct tld_record *r, void *ctx)
{
	struct key_view keys[TLD_MAX_KEYS];
	struct tldtool *t = ctx;
	struct value_type vt;
	int i, n = record_keys(r, keys);

	if (t->json)
		json_array_start(&t->j, NULL);
	else
		printf("%-5s %-6s %-6s %-6s %s\n", "INDEX", "OFFSET", "SIZE", "TYPE", "NAME");
	for (i = 0; i < n; i++) {
		value_type(keys[i].name, keys[i].in_page ? r->data + keys[i].at : NULL,
			   keys[i].in_page ? keys[i].size : 0, &vt);
		if (!t->json) {
			printf("%-5d %-6u %-6u %-6s ", i, keys[i].at - r->head.start,
			       keys[i].size, value_kind_name(&vt));
			print_escaped(stdout, keys[i].name, sizeof(keys[i].name), 0);
			putchar('\n');
			continue;
		}
		json_object_start(&t->j, NULL);
		json_uint(&t->j, "index", i);
		json_uint(&t->j, "offset", keys[i].at - r->head.start);
		json_uint(&t->j, "size", keys[i].size);
		json_str(&t->j, "type", value_kind_name(&vt));
		json_str(&t->j, "name", keys[i].name);
		json_object_end(&t->j);
	}
	if (t->json)
		json_array_end(&t->j);
	return 1;	/* one thread's meta page is the process's */
}

int tldtool_keys(struct tldtool *t, int argc, char **argv)
{
	pid_t pid;
	int ret, err;

	if (argc != 1) {
		tldtool_err(0, "usage: tldtool keys PID");
		return TLDTOOL_USAGE;
	}
	ret = parse_pid(argv[0], &pid) ?: show_check(t, pid);
	if (ret)
		return ret;
	err = tldtool_dump(tldtool_map_path(t), pid, keys_record, t);
	if (err == 1)
		return TLDTOOL_OK;
	if (err)
		return dump_error(err);
	tldtool_err(0, "process %d has no tld data", pid);
	return TLDTOOL_NO_DATA;
}
