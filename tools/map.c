// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool map create | show: the pinned map outlives every consumer, so
 * that reloading a scheduler keeps every thread's registration.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../src/tool.h"
#include "tld_map.skel.h"
#include "tldtool.h"

/* 1: a valid tld map is pinned at @path and kept; 0: the path is free. */
static int map_existing(const struct tldtool *t, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st))
		return 0;
	fd = t->force ? -1 : tld__map_open(path);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (!t->force) {
		tldtool_err(0, "%s holds something else; --force replaces it", path);
		return -1;
	}
	return pin_remove_all(path) ? -1 : 0;
}

/* The maps (reused when pinned) and the exec and exit cleanup links. */
static int map_install(const char *path)
{
	struct tld_map_bpf *skel = tld_map_bpf__open();
	int err;

	if (!skel) {
		tldtool_err(errno, "cannot open the map object");
		return -EINVAL;
	}
	err = pin_map_prepare(skel->maps.tld_data_map, path) ?:
	      pin_map_prepare(skel->maps.tld_guard_map, path);
	if (!err && tld_map_bpf__load(skel))
		err = -errno;
	if (err)
		tldtool_err(err, "cannot create or reuse the maps (creating them needs CAP_BPF)");
	else
		err = pin_map_commit(skel->maps.tld_data_map, path) ?:
		      pin_map_commit(skel->maps.tld_guard_map, path) ?:
		      pin_link(skel->progs.tld_exec, path, "tld_exec") ?:
		      pin_link(skel->progs.tld_exit, path, "tld_exit");
	tld_map_bpf__destroy(skel);
	return err;
}

static int map_create(struct tldtool *t)
{
	const char *path = tldtool_map_path(t);
	struct utsname uts;
	mode_t mode = 0666;
	gid_t gid = (gid_t)-1;
	int kept;

	if (parse_mode(t->mode, &mode) || parse_group(t->group, &gid))
		return TLDTOOL_USAGE;
	if (bpffs_ensure(path))
		return TLDTOOL_ERROR;
	/* Unreadable BTF (-1) is no verdict: tld_exec, a tp_btf program, needs it too. */
	if (tld__kernel_has_uptr() == 0) {
		uname(&uts);
		return tldtool_err(0, "kernel %s lacks task-storage __uptr support (BPF_UPTR): tld needs Linux 6.13 or later",
				   uts.release);
	}
	kept = map_existing(t, path);
	if (kept < 0)
		return TLDTOOL_ERROR;
	if ((!kept && mkdir_parents(path)) || map_install(path) ||
	    guard_install(path, kept || t->sweep >= 0 ? t->sweep : 1))
		return TLDTOOL_ERROR;
	/* A kept map keeps its mode and group unless new ones are given. */
	if ((!kept || t->mode) && pin_mode(path, mode))
		return TLDTOOL_ERROR;
	if (t->group && pin_group(path, gid))
		return TLDTOOL_ERROR;
	if (!kept || t->mode || t->group)
		pin_reach_check(path, mode, gid);
	if (!t->json)
		printf("%s tld map %s, guarded\n", kept ? "kept" : "created", path);
	return TLDTOOL_OK;
}

static const char *user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pw->pw_name : "?";
}

static const char *group_name(gid_t gid)
{
	struct group *gr = getgrgid(gid);

	return gr ? gr->gr_name : "?";
}

/* The programs that end entries, and what is wrong without them. */
static const struct {
	const char *link, *json, *without;
} map_links[] = {
	{ "tld_exec", "exec_link", "entries outlive an exec, vouched for by the old image" },
	{ "tld_exit", "exit_link", "an exited thread's entry stays until its task is freed" },
};
#define MAP_LINKS	(sizeof(map_links) / sizeof(map_links[0]))

static void map_show_json(struct tldtool *t, const char *path, const struct bpf_map_info *info,
			  const struct stat *st, int count_err, unsigned long long entries,
			  const struct guard_status *gs)
{
	size_t i;

	json_object_start(&t->j, NULL);
	json_str(&t->j, "path", path);
	json_uint(&t->j, "id", info->id);
	json_uint(&t->j, "abi", TLD_ABI_VERSION);
	json_uint(&t->j, "btf_id", info->btf_id);
	json_uint(&t->j, "mode", st->st_mode & 07777);
	json_uint(&t->j, "uid", st->st_uid);
	json_uint(&t->j, "gid", st->st_gid);
	if (!count_err)
		json_uint(&t->j, "entries", entries);
	for (i = 0; i < MAP_LINKS; i++)
		json_bool(&t->j, map_links[i].json, pin_exists(path, map_links[i].link));
	json_object_start(&t->j, "guard");
	json_bool(&t->j, "active", gs->active);
	json_bool(&t->j, "sweep", gs->state.sweep);
	json_uint(&t->j, "vouched", gs->state.vouched);
	json_uint(&t->j, "refused", gs->state.refused);
	json_uint(&t->j, "mismatched", gs->state.mismatched);
	json_uint(&t->j, "swept", gs->state.swept);
	json_uint(&t->j, "erased", gs->state.erased);
	json_uint(&t->j, "busy", gs->state.busy);
	json_uint(&t->j, "retried", gs->state.retried);
	json_uint(&t->j, "unqueued", gs->state.unqueued);
	if (!count_err)
		json_uint(&t->j, "erased_pending", gs->erased_pending);
	json_object_end(&t->j);
	json_object_end(&t->j);
}

static void map_show_text(const char *path, const struct bpf_map_info *info,
			  const struct stat *st, int count_err, unsigned long long entries,
			  const struct guard_status *gs)
{
	size_t i;

	printf("%s: tld map id %u, ABI v%d, btf id %u\n", path, info->id, TLD_ABI_VERSION,
	       info->btf_id);
	printf("\tmode %04o  owner %s  group %s\n", st->st_mode & 07777,
	       user_name(st->st_uid), group_name(st->st_gid));
	if (count_err)
		printf("\tentries: unknown (%s)\n", strerror(-count_err));
	else
		printf("\tentries %llu\n", entries);
	for (i = 0; i < MAP_LINKS; i++)
		if (!pin_exists(path, map_links[i].link))
			printf("\t%s is missing: %s (`tldtool map create` attaches it)\n",
			       map_links[i].link, map_links[i].without);
	if (gs->active)
		printf("\tguard active, sweep %s\n", gs->state.sweep ? "on" : "off");
	else
		printf("\tguard NOT active (%s is missing): any process that can open the map can write any task's hints\n",
		       gs->missing);
	if (gs->state_err)
		printf("\tguard counters unreadable: %s\n", gs->state_err == -EPROTO ?
		       "the pinned guard is of another tldtool build (run `tldtool map create` again)" :
		       strerror(-gs->state_err));
	printf("\tvouched %llu  refused %llu  mismatched %llu  swept %llu  erased %llu\n",
	       gs->state.vouched, gs->state.refused, gs->state.mismatched, gs->state.swept,
	       gs->state.erased);
	if (gs->state.busy)
		printf("\tsweeps refused by the kernel (-EBUSY) %llu: removed by a retry %llu, left to the task's next wakeup %llu\n",
		       gs->state.busy, gs->state.retried, gs->state.unqueued);
	if (!count_err && gs->erased_pending)
		printf("\terased and not counted yet: %llu (their threads have not run since)\n",
		       gs->erased_pending);
}

static int map_show(struct tldtool *t)
{
	const char *path = tldtool_map_path(t);
	unsigned long long entries = 0;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	struct guard_status gs;
	struct stat st;
	int fd, err;

	fd = tld__map_open(path);
	if (fd < 0)
		return TLDTOOL_ERROR;
	if (bpf_map_get_info_by_fd(fd, &info, &len) || stat(path, &st)) {
		close(fd);
		return tldtool_err(errno, "cannot query %s", path);
	}
	guard_status(path, &gs);
	err = tldtool_count_entries(path, &entries, &gs.erased_pending);
	if (err == -EPERM)
		tldtool_err(err, "counting entries needs CAP_BPF and CAP_PERFMON");
	close(fd);
	if (t->json)
		map_show_json(t, path, &info, &st, err, entries, &gs);
	else
		map_show_text(path, &info, &st, err, entries, &gs);
	return TLDTOOL_OK;
}

/* Unpin the map and everything tldtool pinned beside it. */
static int map_remove(struct tldtool *t)
{
	const char *path = tldtool_map_path(t);
	char dir[PATH_MAX];

	if (pin_remove_all(path))
		return TLDTOOL_ERROR;
	snprintf(dir, sizeof(dir), "%s", path);
	if (rmdir(dirname(dir)) && errno != ENOTEMPTY && errno != EBUSY)
		return tldtool_err(errno, "cannot remove %s", dir);
	if (!t->json)
		printf("removed tld map %s\n", path);
	return TLDTOOL_OK;
}

int tldtool_map(struct tldtool *t, int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "create"))
		return map_create(t);
	if (argc == 1 && !strcmp(argv[0], "show"))
		return map_show(t);
	if (argc == 1 && !strcmp(argv[0], "remove"))
		return map_remove(t);
	tldtool_err(0, "usage: tldtool map create|show|remove (see tldtool --help)");
	return TLDTOOL_USAGE;
}
