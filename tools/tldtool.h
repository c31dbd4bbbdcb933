/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TLDTOOL_H
#define TLDTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "../bpf/tld_guard.h"
#include "json.h"

struct bpf_map;
struct bpf_program;

/* Exit statuses, documented in tldtool(8). */
enum {
	TLDTOOL_OK	= 0,
	TLDTOOL_ERROR	= 1,
	TLDTOOL_USAGE	= 2,
};

struct tldtool {
	const char *path;	/* --path, else $TLD_MAP_PATH, else the default */
	const char *mode;	/* --mode */
	const char *group;	/* --group */
	bool force;		/* --force */
	int sweep;		/* --no-sweep: 0; else -1, unspecified */
	bool json;		/* --json */
	struct json j;
};

__attribute__((format(printf, 2, 3)))
int tldtool_err(int err, const char *fmt, ...);
const char *tldtool_map_path(const struct tldtool *t);

int tldtool_map(struct tldtool *t, int argc, char **argv);
int tldtool_count_entries(int map_fd, unsigned long long *count);

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
};
int guard_install(const char *map_path, int sweep);
int guard_status(const char *map_path, struct guard_status *gs);

#endif
