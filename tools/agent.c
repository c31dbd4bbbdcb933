// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tldtool agent create | show | remove: the agent store, a record for
 * every task and cgroup in one arena (see docs/agent.md). create loads
 * bpf/tld_agent.bpf.c, lays the store out, attaches the hooks and pins
 * everything in one directory, then runs one maintenance pass so that
 * tasks and cgroups that exist already get their records.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <tld/agent.h>

#include "tld_agent.skel.h"
#include "tldtool.h"

#define CGROUP2_ROOT	"/sys/fs/cgroup"

static const char *const agent_pins[] = {
	"arena", "tasks", "cgroups", "task_new", "task_free", "cgroup_new",
	"cgroup_free", "keep_tasks", "keep_cgroups",
};

static const char *agent_dir(const struct tldtool *t)
{
	const char *env = getenv("TLD_AGENT_PATH");

	if (t->path)
		return t->path;
	return env && *env ? env : TLD_AGENT_DEFAULT_PATH;
}

/* The cgroup v2 hierarchy's root: /sys/fs/cgroup, or its unified mount. */
static int cgroup2_root_fd(void)
{
	static const char *const roots[] = { CGROUP2_ROOT "/unified", CGROUP2_ROOT };
	char probe[PATH_MAX];
	unsigned int i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/cgroup.procs", roots[i]);
		if (!access(probe, F_OK) && !access(roots[i], R_OK))
			return open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	errno = ENOENT;
	return -1;
}

/* Arena pages for @max records of each kind at @size bytes: room for the worst layout. */
static __u32 agent_pages(__u32 max, const __u32 size[TLD_AGENT_KINDS])
{
	__u64 pages = 1, buckets = 1;
	int kind;

	while (buckets < 2ull * max)
		buckets <<= 1;
	for (kind = 0; kind < TLD_AGENT_KINDS; kind++)
		pages += (buckets * 4 + TLD_AGENT_PAGE - 1) / TLD_AGENT_PAGE +
			 /* one live record per page at worst, and a reserve of up to max */
			 2 * max + max / 8 + 2;
	(void)size;
	return pages > TLD_AGENT_PAGES_MAX ? 0 : pages;
}

/* Pin @link as @name, then let go of it: the pin keeps it attached. */
static int agent_pin(struct bpf_link *link, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!link)
		return tldtool_err(errno, "cannot attach %s", name);
	err = bpf_link__pin(link, path);
	bpf_link__destroy(link);
	return err ? tldtool_err(err, "cannot pin %s", path) : 0;
}

static int agent_pin_map(struct bpf_map *map, const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_map__pin(map, path))
		return tldtool_err(errno, "cannot pin %s", path);
	return 0;
}

static int agent_init(struct tld_agent_bpf *skel, __u32 pages, const struct tldtool *t)
{
	struct tld_agent_init_args a = {
		.pages = pages,
		.max_records = t->max_records,
		.rec_size = { t->task_size, t->cgroup_size },
		.reserve = t->reserve,
	};
	/* A syscall program's ctx is copied back to where it came from. */
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &a, .ctx_size_in = sizeof(a));

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.tld_agent_init), &run))
		return tldtool_err(errno, "cannot run tld_agent_init");
	if (a.err)
		return tldtool_err(a.err, "cannot lay the store out");
	return 0;
}

static int agent_attach(struct tld_agent_bpf *skel, const char *dir)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, iter);
	union bpf_iter_link_info info = { 0 };
	int cg, err;

	cg = cgroup2_root_fd();
	if (cg < 0)
		return tldtool_err(errno, "no cgroup v2 hierarchy under %s", CGROUP2_ROOT);
	info.cgroup.cgroup_fd = cg;
	info.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
	iter.link_info = &info;
	iter.link_info_len = sizeof(info);
	err = agent_pin(bpf_program__attach(skel->progs.tld_agent_task_new), dir, "task_new") ?:
	      agent_pin(bpf_program__attach(skel->progs.tld_agent_task_free), dir, "task_free") ?:
	      agent_pin(bpf_program__attach(skel->progs.tld_agent_cgroup_new), dir, "cgroup_new") ?:
	      agent_pin(bpf_program__attach(skel->progs.tld_agent_cgroup_free), dir, "cgroup_free") ?:
	      agent_pin(bpf_program__attach_iter(skel->progs.tld_agent_tasks_keep, NULL), dir,
			"keep_tasks") ?:
	      agent_pin(bpf_program__attach_iter(skel->progs.tld_agent_cgroups_keep, &iter), dir,
			"keep_cgroups");
	close(cg);
	return err;
}

static int agent_modes(const char *dir, mode_t mode, gid_t gid, bool set_group)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < sizeof(agent_pins) / sizeof(agent_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, agent_pins[i]);
		if (pin_mode(path, mode) || (set_group && pin_group(path, gid)))
			return -1;
	}
	return 0;
}

static int agent_install(const struct tldtool *t, const char *dir)
{
	struct tld_agent_bpf *skel = tld_agent_bpf__open();
	__u32 size[TLD_AGENT_KINDS] = { t->task_size, t->cgroup_size };
	__u32 pages = agent_pages(t->max_records, size);
	int err;

	if (!skel)
		return tldtool_err(errno, "cannot open the agent object");
	err = -EINVAL;
	if (!pages) {
		tldtool_err(0, "--max-records %u does not fit a 4 GiB arena", t->max_records);
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.tld_agent_arena, pages);
	if (tld_agent_bpf__load(skel)) {
		int load_errno = errno;	/* the probe may change errno */

		if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARENA, NULL) == 0)
			err = tldtool_err(0, "this kernel makes no arena map (Linux 6.9+ does, but some hosts refuse them even to root): no agent store here");
		else
			err = tldtool_err(load_errno, "cannot load the agent store's keeper (it needs CAP_BPF, CAP_PERFMON and Linux 6.9+)");
		goto out;
	}
	err = agent_init(skel, pages, t) ?:
	      agent_pin_map(skel->maps.tld_agent_arena, dir, "arena") ?:
	      agent_pin_map(skel->maps.tld_agent_tasks, dir, "tasks") ?:
	      agent_pin_map(skel->maps.tld_agent_cgroups, dir, "cgroups") ?:
	      agent_attach(skel, dir);
out:
	tld_agent_bpf__destroy(skel);
	return err;
}

static int agent_remove_pins(const char *dir)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < sizeof(agent_pins) / sizeof(agent_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, agent_pins[i]);
		if (unlink(path) && errno != ENOENT)
			return tldtool_err(errno, "cannot remove %s", path);
	}
	if (rmdir(dir) && errno != ENOENT && errno != ENOTEMPTY)
		return tldtool_err(errno, "cannot remove %s", dir);
	return 0;
}

static int agent_check_sizes(const struct tldtool *t)
{
	__u32 max = TLD_AGENT_PAGE - TLD_AGENT_PAGE_HDR - TLD_AGENT_REC_HDR;

	if (t->task_size > max || t->cgroup_size > max)
		return tldtool_err(0, "record sizes %u and %u: at most %u bytes", t->task_size,
				   t->cgroup_size, max);
	if (!t->max_records || t->max_records > (1u << 22))
		return tldtool_err(0, "--max-records %u is outside 1..%u", t->max_records, 1u << 22);
	if (t->reserve > t->max_records)
		return tldtool_err(0, "--reserve %u is larger than --max-records %u", t->reserve,
				   t->max_records);
	return 0;
}

static int agent_create(struct tldtool *t)
{
	const char *dir = agent_dir(t);
	char arena[PATH_MAX];
	struct tld_agent *a;
	mode_t mode = 0600;
	gid_t gid = (gid_t)-1;
	int err;

	if (parse_mode(t->mode, &mode) || parse_group(t->group, &gid) || agent_check_sizes(t))
		return TLDTOOL_USAGE;
	if (bpffs_ensure(dir))
		return TLDTOOL_ERROR;
	snprintf(arena, sizeof(arena), "%s/arena", dir);
	if (!access(arena, F_OK)) {
		if (!t->force)
			return tldtool_err(0, "an agent store exists at %s; --force makes it anew, losing its records",
					   dir);
		if (agent_remove_pins(dir))
			return TLDTOOL_ERROR;
	}
	if (mkdir_parents(arena) || (mkdir(dir, 0755) && errno != EEXIST))
		return tldtool_err(errno, "cannot create %s", dir);
	if (agent_install(t, dir) || agent_modes(dir, mode, gid, t->group)) {
		agent_remove_pins(dir);
		return TLDTOOL_ERROR;
	}
	pin_reach_check(arena, mode, t->group ? gid : (gid_t)-1);
	TLD_AGENT_OPTS(opts, .path = dir);
	err = tld_agent_open(&opts, &a);
	if (!err) {
		err = tld_agent_maintain(a);
		tld_agent_close(a);
	}
	if (err)
		return TLDTOOL_ERROR;
	if (!t->json)
		printf("created agent store %s: up to %u tasks and %u cgroups, records of %u and %u bytes\n",
		       dir, t->max_records, t->max_records, t->task_size, t->cgroup_size);
	return TLDTOOL_OK;
}

static const char *const kind_names[] = { "tasks", "cgroups" };

static void agent_show_kind_json(struct json *j, const struct tld_agent_kind_hdr *k, int kind)
{
	json_object_start(j, kind_names[kind]);
	json_uint(j, "record_size", k->rec_size);
	json_uint(j, "live", k->live);
	json_uint(j, "made", k->made);
	json_uint(j, "freed", k->freed);
	json_uint(j, "swept", k->swept);
	json_uint(j, "full", k->full);
	json_uint(j, "waited", k->waited);
	json_uint(j, "pages", k->npages);
	json_uint(j, "free_slots", k->free_slots);
	json_object_end(j);
}

static void agent_show_kind_text(const struct tld_agent_kind_hdr *k, int kind)
{
	printf("\t%-8s %llu live (records of %u bytes), %llu made, %llu freed, %llu swept\n",
	       kind_names[kind], (unsigned long long)k->live, k->rec_size,
	       (unsigned long long)k->made, (unsigned long long)k->freed,
	       (unsigned long long)k->swept);
	printf("\t         %u pages, %llu free slots; %llu refused (store full), %llu made late (no free slot)\n",
	       k->npages, (unsigned long long)k->free_slots, (unsigned long long)k->full,
	       (unsigned long long)k->waited);
}

/* Every live record of @kind: its id and its payload's first bytes. */
static void agent_show_records(struct tldtool *t, struct tld_agent *a, int kind)
{
	const struct tld_agent_kind_hdr *k = &tld_agent_stats(a)->kind[kind];
	struct tld_agent_ref ref;
	unsigned long pos = 0;
	unsigned char buf[16];
	unsigned int i, n;

	if (t->json)
		json_array_start(&t->j, "records");
	n = k->rec_size < sizeof(buf) ? k->rec_size : sizeof(buf);
	while (tld_agent_next(a, kind, &pos, &ref)) {
		if (tld_agent_read(a, &ref, buf, n))
			continue;
		if (t->json) {
			json_object_start(&t->j, NULL);
			json_uint(&t->j, "id", ref.id);
			json_uint(&t->j, "gen", ref.gen);
			json_object_end(&t->j);
			continue;
		}
		printf("%-12llu gen %-6u ", (unsigned long long)ref.id, ref.gen);
		for (i = 0; i < n; i++)
			printf("%02x", buf[i]);
		putchar('\n');
	}
	if (t->json)
		json_array_end(&t->j);
}

static int agent_show(struct tldtool *t, int kind)
{
	TLD_AGENT_OPTS(opts, .path = agent_dir(t));
	const struct tld_agent_hdr *h;
	struct tld_agent *a;
	int i;

	if (tld_agent_open(&opts, &a))
		return TLDTOOL_ERROR;
	h = tld_agent_stats(a);
	if (t->json) {
		json_object_start(&t->j, NULL);
		json_str(&t->j, "path", opts.path);
		json_uint(&t->j, "pages", h->pages);
		json_uint(&t->j, "pages_used", h->pages_used);
		json_uint(&t->j, "max_records", h->max_records);
		for (i = 0; i < TLD_AGENT_KINDS; i++)
			agent_show_kind_json(&t->j, &h->kind[i], i);
	} else {
		printf("%s: agent store, %llu of %u pages in use, up to %u records of each kind\n",
		       opts.path, (unsigned long long)h->pages_used, h->pages, h->max_records);
		for (i = 0; i < TLD_AGENT_KINDS; i++)
			agent_show_kind_text(&h->kind[i], i);
	}
	if (kind >= 0)
		agent_show_records(t, a, kind);
	if (t->json)
		json_object_end(&t->j);
	tld_agent_close(a);
	return TLDTOOL_OK;
}

static int agent_remove(struct tldtool *t)
{
	const char *dir = agent_dir(t);

	if (agent_remove_pins(dir))
		return TLDTOOL_ERROR;
	if (!t->json)
		printf("removed agent store %s\n", dir);
	return TLDTOOL_OK;
}

int tldtool_agent(struct tldtool *t, int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "create"))
		return agent_create(t);
	if (argc == 1 && !strcmp(argv[0], "show"))
		return agent_show(t, t->records);
	if (argc == 1 && !strcmp(argv[0], "remove"))
		return agent_remove(t);
	tldtool_err(0, "usage: tldtool agent create|show [--tasks|--cgroups]|remove (see tldtool --help)");
	return TLDTOOL_USAGE;
}
