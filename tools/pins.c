// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The objects tldtool pins beside the map, by name, in the map's directory:
 * maps are reused when pinned and pinned when new, links are attached and
 * pinned when missing. Each returns 0 or -errno.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tldtool.h"

static const char *const tldtool_pins[] = {
	"tld_data_map", "tld_guard_map", "tld_guard_state",
	"tld_exec", "tld_exit", "tld_guard_vouch", "tld_guard_waking", "tld_guard_switch",
};

/* @name's pin beside the map at @map_path. */
void pin_path(const char *map_path, const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", map_path);
	if (!strcmp(name, "tld_data_map"))
		snprintf(buf, len, "%s", map_path);
	else
		snprintf(buf, len, "%s/%s", dirname(dir), name);
}

bool pin_exists(const char *map_path, const char *name)
{
	char path[PATH_MAX];

	pin_path(map_path, name, path, sizeof(path));
	return !access(path, F_OK);
}

/*
 * Reuse the pinned map of @map's name, or leave it to be created on load.
 * Silent: readers report a failure in their own terms.
 */
int pin_map_prepare(struct bpf_map *map, const char *map_path)
{
	char path[PATH_MAX];
	int fd, err;

	pin_path(map_path, bpf_map__name(map), path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	return err;
}

static int pin_err(int err, const char *what, const char *path)
{
	tldtool_err(err, "cannot %s %s", what, path);
	return err;
}

/* After load: pin @map if it is new. */
int pin_map_commit(struct bpf_map *map, const char *map_path)
{
	char path[PATH_MAX];

	pin_path(map_path, bpf_map__name(map), path, sizeof(path));
	if (!access(path, F_OK))
		return 0;
	if (bpf_map__pin(map, path))
		return pin_err(-errno, "pin", path);
	return 0;
}

/* Attach @prog and pin its link as @name, unless that pin exists. */
int pin_link(struct bpf_program *prog, const char *map_path, const char *name)
{
	char path[PATH_MAX];
	struct bpf_link *link;
	int err;

	pin_path(map_path, name, path, sizeof(path));
	if (!access(path, F_OK))
		return 0;
	link = bpf_program__attach(prog);
	if (!link)
		return pin_err(-errno, "attach the program for", path);
	err = bpf_link__pin(link, path);
	bpf_link__destroy(link);
	return err ? pin_err(err, "pin", path) : 0;
}

/* Remove every pin tldtool makes beside the map. */
int pin_remove_all(const char *map_path)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(tldtool_pins) / sizeof(tldtool_pins[0]); i++) {
		pin_path(map_path, tldtool_pins[i], path, sizeof(path));
		if (unlink(path) && errno != ENOENT)
			return pin_err(-errno, "remove", path);
	}
	return 0;
}
