// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Installing the guard beside the map, and telling whether it is active. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tld_guard.skel.h"
#include "tldtool.h"

static const char *const guard_links[] = {
	"tld_guard_vouch", "tld_guard_waking", "tld_guard_switch",
};

static int guard_set_sweep(struct tld_guard_bpf *skel, int sweep)
{
	struct tld_guard_state st;
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.tld_guard_state);

	if (sweep < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &st))
		return -errno;
	st.sweep = sweep;
	return bpf_map_update_elem(fd, &zero, &st, 0) ? -errno : 0;
}

/* Load the guard against the pinned maps; attach what is not attached. */
int guard_install(const char *map_path, int sweep)
{
	struct tld_guard_bpf *skel = tld_guard_bpf__open();
	int err;

	if (!skel) {
		tldtool_err(errno, "cannot open the guard object");
		return -EINVAL;
	}
	err = pin_map_prepare(skel->maps.tld_data_map, map_path) ?:
	      pin_map_prepare(skel->maps.tld_guard_map, map_path) ?:
	      pin_map_prepare(skel->maps.tld_guard_state, map_path);
	if (!err && tld_guard_bpf__load(skel))
		err = -errno;
	if (err)
		tldtool_err(err, "cannot load the guard");
	else
		err = pin_map_commit(skel->maps.tld_guard_state, map_path) ?:
		      pin_link(skel->progs.tld_guard_vouch, map_path, guard_links[0]) ?:
		      pin_link(skel->progs.tld_guard_waking, map_path, guard_links[1]) ?:
		      pin_link(skel->progs.tld_guard_switch, map_path, guard_links[2]);
	if (!err && (err = guard_set_sweep(skel, sweep)))
		tldtool_err(err, "cannot set the guard's sweep");
	tld_guard_bpf__destroy(skel);
	return err;
}

/* A guard of another build pins a state of another size: never read past ours. */
static int guard_read_state(int fd, struct tld_guard_state *st)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), zero = 0;

	if (bpf_map_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != sizeof(*st))
		return -EPROTO;
	return bpf_map_lookup_elem(fd, &zero, st) ? -errno : 0;
}

/* Whether every guard link is pinned (and so attached); its counters. */
int guard_status(const char *map_path, struct guard_status *gs)
{
	char path[PATH_MAX];
	size_t i;
	int fd;

	memset(gs, 0, sizeof(*gs));
	gs->active = true;
	for (i = 0; i < sizeof(guard_links) / sizeof(guard_links[0]); i++) {
		if (pin_exists(map_path, guard_links[i]))
			continue;
		gs->active = false;
		gs->missing = guard_links[i];
	}
	pin_path(map_path, "tld_guard_state", path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	gs->state_err = guard_read_state(fd, &gs->state);
	close(fd);
	return 0;
}
