/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * For loaders of BPF consumers that use libbpf: make an object's
 * tld_data_map the pinned one, before bpf_object__load(). Header-only, so
 * that libtld itself never depends on libbpf.
 */
#ifndef TLD_LOADER_H
#define TLD_LOADER_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tld/tld.h>

/* The pinned map path: @path, else $TLD_MAP_PATH, else the default. */
static inline const char *tld_loader_map_path(const char *path)
{
	const char *env = getenv("TLD_MAP_PATH");

	if (path)
		return path;
	return env && *env ? env : TLD_DEFAULT_MAP_PATH;
}

/* Reuse the pinned tld map for @obj's tld_data_map. 0 or -errno. */
static inline int tld_loader_reuse_map(struct bpf_object *obj, const char *path)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "tld_data_map");
	int fd, err;

	if (!map)
		return -ENOENT;
	fd = bpf_obj_get(tld_loader_map_path(path));
	if (fd < 0)
		return -errno;
	err = bpf_map__reuse_fd(map, fd);
	close(fd);
	return err;
}

#endif /* TLD_LOADER_H */
