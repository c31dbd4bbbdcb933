/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * For loaders of BPF consumers that use libbpf: make an object's
 * tld_data_map and tld_guard_map the pinned ones, before
 * bpf_object__load(). Header-only, so that libtld itself never depends on
 * libbpf.
 */
#ifndef TLD_LOADER_H
#define TLD_LOADER_H

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tld/agent.h>
#include <tld/tld.h>

/* The pinned map path: @path, else $TLD_MAP_PATH, else the default. */
static inline const char *tld_loader_map_path(const char *path)
{
	const char *env = getenv("TLD_MAP_PATH");

	if (path)
		return path;
	return env && *env ? env : TLD_DEFAULT_MAP_PATH;
}

static inline int tld_loader_reuse(struct bpf_object *obj, const char *name, const char *path)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	int fd, err;

	if (!map)
		return -ENOENT;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	return err;
}

/*
 * Reuse the pinned tld_data_map at @path (NULL: the default), and the
 * tld_guard_map beside it, for @obj's maps of those names. 0 or -errno.
 */
static inline int tld_loader_reuse_map(struct bpf_object *obj, const char *path)
{
	char dir[PATH_MAX], guard[PATH_MAX];
	int err;

	path = tld_loader_map_path(path);
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(guard, sizeof(guard), "%s/tld_guard_map", dirname(dir));
	err = tld_loader_reuse(obj, "tld_data_map", path);
	if (!err && bpf_object__find_map_by_name(obj, "tld_guard_map"))
		err = tld_loader_reuse(obj, "tld_guard_map", guard);
	return err;
}

/*
 * Reuse the agent store pinned in @dir (NULL: $TLD_AGENT_PATH, else
 * TLD_AGENT_DEFAULT_PATH from tld/agent.h) for @obj's tld_agent_arena,
 * tld_agent_tasks and tld_agent_cgroups (tld/agent.bpf.h). 0 or -errno.
 */
static inline int tld_loader_reuse_agent(struct bpf_object *obj, const char *dir)
{
	static const char *const maps[][2] = {
		{ "tld_agent_arena", "arena" },
		{ "tld_agent_tasks", "tasks" },
		{ "tld_agent_cgroups", "cgroups" },
	};
	const char *env = getenv("TLD_AGENT_PATH");
	char path[PATH_MAX];
	unsigned int i;
	int err;

	if (!dir)
		dir = env && *env ? env : TLD_AGENT_DEFAULT_PATH;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, maps[i][1]);
		err = tld_loader_reuse(obj, maps[i][0], path);
		if (err)
			return err;
	}
	return 0;
}

/*
 * For a consumer opened as a skeleton (NAME__open()): reuse the pinned
 * maps at @path as tld_loader_reuse_map() does, then load the object and
 * attach its programs, as NAME__load() and NAME__attach() would. Pass
 * skel->skeleton. 0 or -errno.
 */
static inline int tld_loader_load_skeleton(struct bpf_object_skeleton *s, const char *path)
{
	int err = tld_loader_reuse_map(*s->obj, path);

	if (!err)
		err = bpf_object__load_skeleton(s);
	if (!err)
		err = bpf_object__attach_skeleton(s);
	return err;
}

#endif /* TLD_LOADER_H */
