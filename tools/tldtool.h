/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TLDTOOL_H
#define TLDTOOL_H

#include <stdbool.h>

#include "json.h"

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
	bool json;		/* --json */
	struct json j;
};

__attribute__((format(printf, 2, 3)))
int tldtool_err(int err, const char *fmt, ...);
const char *tldtool_map_path(const struct tldtool *t);

int tldtool_map(struct tldtool *t, int argc, char **argv);
int tldtool_count_entries(int map_fd, unsigned long long *count);

#endif
