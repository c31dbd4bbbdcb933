// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pinned task-storage map: finding it, checking it is tld's, and
 * attaching or detaching one thread's pages through the thread's pidfd.
 */
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"
#include "syscall.h"

const char *tld__map_default_path(void)
{
	const char *env = secure_getenv("TLD_MAP_PATH");

	return env && *env ? env : TLD_DEFAULT_MAP_PATH;
}

bool tld__on_bpffs(const char *path)
{
	char dir[PATH_MAX];
	struct statfs st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	while (statfs(dir, &st)) {
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return false;
		*slash = '\0';
	}
	return st.f_type == BPF_FS_MAGIC;
}

static int tld_map_missing(const char *path, int err)
{
	struct utsname uts;

	if (!tld__on_bpffs(path))
		return tld__err(err, "cannot open map %s: no bpffs is mounted there (mount -t bpf bpf /sys/fs/bpf)",
			       path);
	if (tld__kernel_has_uptr() == 0) {
		uname(&uts);
		return tld__err(err, "no tld map at %s, and kernel %s cannot have one: it lacks task-storage __uptr fields (BPF_UPTR), which need Linux 6.13 or later",
			       path, uts.release);
	}
	return tld__err(err, "no tld map at %s (create it with 'tldtool map create')", path);
}

static int tld_map_open_error(const char *path, int err)
{
	switch (err) {
	case -ENOENT:
		return tld_map_missing(path, err);
	case -EACCES:
	case -EPERM:
		return tld__err(err, "cannot open map %s: its mode and group do not admit this user (see 'tldtool map create --mode --group')",
			       path);
	case -EINVAL:
		return tld__err(err, "cannot open map %s: not a pinned BPF object on a bpffs", path);
	default:
		return tld__err(err, "cannot open map %s", path);
	}
}

/*
 * BPF_OBJ_GET opens programs and links too, and their info would be read as
 * a map's; fdinfo says which kind the object is. Without /proc, trust it.
 */
static bool tld_fd_is_map(int fd)
{
	char path[64], line[128];
	bool map = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return true;
	map = false;
	while (!map && fgets(line, sizeof(line), f))
		map = !strncmp(line, "map_type:", 9);
	fclose(f);
	return map;
}

static int tld_map_check(int fd, const char *path)
{
	struct bpf_map_info info;
	int err;

	if (!tld_fd_is_map(fd))
		return tld__err(-EINVAL, "%s is a pinned BPF object, but not a map", path);
	err = tld_bpf_map_info(fd, &info);
	if (err)
		return tld__err(err, "cannot query map %s", path);
	if (info.type != BPF_MAP_TYPE_TASK_STORAGE)
		return tld__err(-EINVAL, "%s is a map of type %u, not a task storage map (%u)",
			       path, info.type, BPF_MAP_TYPE_TASK_STORAGE);
	if (info.key_size != sizeof(int) ||
	    info.value_size != sizeof(struct tld_map_value))
		return tld__err(-EINVAL, "map %s has key and value sizes %u and %u; tld ABI v%d needs %zu and %zu",
			       path, info.key_size, info.value_size, TLD_ABI_VERSION,
			       sizeof(int), sizeof(struct tld_map_value));
	if (!info.btf_value_type_id)
		return tld__err(-EINVAL, "map %s has no BTF, so its pointers are not __uptr (create it with 'tldtool map create')",
			       path);
	return 0;
}

int tld__map_open(const char *path)
{
	int fd, err;

	fd = tld_bpf_obj_get(path);
	if (fd < 0)
		return tld_map_open_error(path, fd);
	err = tld_map_check(fd, path);
	if (err) {
		tld_sys_close(fd);
		return err;
	}
	return fd;
}

/*
 * A kernel that pins __uptr fields hands zeroed pointers back to user
 * space; one that stores our addresses verbatim (before 6.13, or a map
 * without tld's BTF) would let BPF read nothing.
 */
static int tld_map_check_uptr(int map_fd, int pidfd)
{
	struct tld_map_value back;
	struct utsname uts;
	int err;

	err = tld_bpf_map_elem(BPF_MAP_LOOKUP_ELEM, map_fd, &pidfd, &back, 0);
	if (err)
		return tld__err(err, "cannot read back this thread's map entry");
	if (!back.data && !back.meta)
		return 0;
	tld_bpf_map_elem(BPF_MAP_DELETE_ELEM, map_fd, &pidfd, NULL, 0);
	uname(&uts);
	return tld__err(-EOPNOTSUPP, "kernel %s did not pin the map's __uptr fields: task-storage UPTR needs Linux 6.13 or later, and a map made by tldtool",
		       uts.release);
}

/* Point thread @tid's entry (@pidfd's) at @value's pages, pinned from this process. */
int tld__map_attach(int map_fd, int pidfd, pid_t tid, const struct tld_map_value *value,
		   bool check_uptr)
{
	int err;

	err = tld_bpf_map_elem(BPF_MAP_UPDATE_ELEM, map_fd, &pidfd, (void *)value, BPF_ANY);
	if (err == -EOPNOTSUPP)
		err = tld__err(err, "the kernel refused thread %d's pages (a __uptr struct may not cross a page)",
			      tid);
	else if (err)
		err = tld__err(err, "cannot register thread %d in the map", tid);
	else if (check_uptr)
		err = tld_map_check_uptr(map_fd, pidfd);
	return err;
}

/* Remove thread @tid's entry: the kernel unpins its pages. */
int tld__map_detach(int map_fd, int pidfd, pid_t tid)
{
	int err;

	err = tld_bpf_map_elem(BPF_MAP_DELETE_ELEM, map_fd, &pidfd, NULL, 0);
	if (err && err != -ENOENT)
		return tld__err(err, "cannot remove thread %d from the map", tid);
	return 0;
}

/* 1 if thread @tid has an entry in the map, 0 if not, or -errno. */
int tld__map_has_entry(int map_fd, int pidfd, pid_t tid)
{
	struct tld_map_value v;
	int err;

	err = tld_bpf_map_elem(BPF_MAP_LOOKUP_ELEM, map_fd, &pidfd, &v, 0);
	if (err == -ENOENT)
		return 0;
	if (err)
		return tld__err(err, "cannot look up thread %d in the map", tid);
	return 1;
}

/* The kernel's id of the map behind @fd: two fds name one map if equal. */
int tld__map_id(int fd)
{
	struct bpf_map_info info;
	int err = tld_bpf_map_info(fd, &info);

	return err ? err : (int)info.id;
}
