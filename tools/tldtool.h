/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TLDTOOL_H
#define TLDTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#include <tld/tld.h>

#include "../bpf/tld_guard.h"
#include "../bpf/tld_iter.h"
#include "../src/tool.h"
#include "json.h"

struct bpf_map;
struct bpf_program;

/* Exit statuses, documented in tldtool(8). */
enum {
	TLDTOOL_OK	= 0,
	TLDTOOL_ERROR	= 1,
	TLDTOOL_USAGE	= 2,
	TLDTOOL_NO_PROCESS = 3,	/* no such process */
	TLDTOOL_NO_DATA	= 4,	/* the process has no tld data */
	TLDTOOL_PERM	= 5,	/* the privilege it needs is missing */
};

struct tldtool {
	const char *path;	/* --path, else $TLD_MAP_PATH, else the default */
	const char *mode;	/* --mode */
	const char *group;	/* --group */
	bool force;		/* --force */
	int sweep;		/* --no-sweep: 0; else -1, unspecified */
	bool json;		/* --json */
	double interval;	/* --interval, top */
	int iterations;		/* --iterations, top; 0: until interrupted */
	const char *by;		/* --by, top: the key to sum CPU time by */
	__u32 max_records;	/* --max-records, agent create */
	__u32 task_size;	/* --task-size, agent create */
	__u32 cgroup_size;	/* --cgroup-size, agent create */
	__u32 reserve;		/* --reserve, agent create: free slots kept for the hooks */
	int records;		/* --tasks, --cgroups: agent show's records; -1 none */
	struct json j;
};

/* common.c */
__attribute__((format(printf, 2, 3)))
int tldtool_err(int err, const char *fmt, ...);
const char *tldtool_map_path(const struct tldtool *t);
void print_escaped(FILE *out, const char *s, size_t max, int width);

/* The subcommands, called by main() alone. */
int tldtool_map(struct tldtool *t, int argc, char **argv);
int tldtool_show(struct tldtool *t, int argc, char **argv);
int tldtool_keys(struct tldtool *t, int argc, char **argv);
int tldtool_top(struct tldtool *t, int argc, char **argv);
int tldtool_agent(struct tldtool *t, int argc, char **argv);
int tldtool_cgroup(struct tldtool *t, int argc, char **argv);

/* iter.c */
struct tld_record {
	struct tld_dump_head head;
	struct tld_meta_u meta;
	unsigned char data[TLD_PAGE_SIZE];
};
typedef int (*tldtool_record_fn)(const struct tld_record *r, void *ctx);
int tldtool_count_entries(const char *map_path, unsigned long long *count,
			  unsigned long long *erased_pending);
int tldtool_dump(const char *map_path, pid_t pid, tldtool_record_fn fn, void *ctx);

/* decode.c */
/* One key of a record, located by the ABI's lookup rule. */
struct key_view {
	char name[TLD_NAME_LEN + 1];
	unsigned int size;
	unsigned int at;	/* in-page offset */
	bool in_page;		/* [at, at + size) lies in the data area */
};
int record_keys(const struct tld_record *r, struct key_view *keys);
enum value_kind { VALUE_UINT, VALUE_INT, VALUE_HEX, VALUE_BOOL, VALUE_STR, VALUE_BYTES };
struct value_type {
	enum value_kind kind;
	unsigned int width;	/* of one element; 0 for str and bytes */
	unsigned int count;
};
void value_type(const char *name, const void *v, unsigned int size, struct value_type *t);
void value_print(FILE *out, const struct value_type *t, const void *v, unsigned int size);
void value_json(struct json *j, const char *name, const struct value_type *t, const void *v,
		unsigned int size);
const char *value_kind_name(const struct value_type *t);

/* bpffs.c */
int bpffs_ensure(const char *path);
int mkdir_parents(const char *path);
int parse_mode(const char *s, mode_t *mode);
int parse_group(const char *s, gid_t *gid);
int pin_mode(const char *path, mode_t mode);
int pin_group(const char *path, gid_t gid);
void pin_reach_check(const char *path, mode_t mode, gid_t gid);

/* pins.c */
void pin_path(const char *map_path, const char *name, char *buf, size_t len);
bool pin_exists(const char *map_path, const char *name);
int pin_map_prepare(struct bpf_map *map, const char *map_path);
int pin_map_commit(struct bpf_map *map, const char *map_path);
int pin_link(struct bpf_program *prog, const char *map_path, const char *name);
int pin_remove_all(const char *map_path);

/* guard.c */
struct guard_status {
	bool active;
	const char *missing;	/* a link that is not pinned */
	int state_err;
	struct tld_guard_state state;
	unsigned long long erased_pending;	/* counted by a task iterator */
};
int guard_install(const char *map_path, int sweep);
int guard_status(const char *map_path, struct guard_status *gs);

#endif
