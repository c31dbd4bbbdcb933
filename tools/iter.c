// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Running tld's task iterators (bpf/tld_iter.bpf.c) against the pinned maps. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tld_iter.skel.h"
#include "tldtool.h"

static int iter_load(const char *map_path, struct tld_iter_bpf **out)
{
	struct tld_iter_bpf *skel = tld_iter_bpf__open();
	int err;

	if (!skel)
		return -errno;
	err = pin_map_prepare(skel->maps.tld_data_map, map_path) ?:
	      pin_map_prepare(skel->maps.tld_guard_map, map_path);
	if (!err && tld_iter_bpf__load(skel))
		err = -errno;
	if (err) {
		tld_iter_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* An iterator over the tasks of @pid (every task if 0), and its fd. */
static int iter_start(struct bpf_program *prog, pid_t pid, struct bpf_link **link)
{
	union bpf_iter_link_info linfo;
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	int fd;

	memset(&linfo, 0, sizeof(linfo));
	if (pid) {
		linfo.task.pid = pid;
		opts.link_info = &linfo;
		opts.link_info_len = sizeof(linfo);
	}
	*link = bpf_program__attach_iter(prog, &opts);
	if (!*link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(*link));
	if (fd < 0) {
		fd = -errno;
		bpf_link__destroy(*link);
	}
	return fd;
}

/* Read exactly @len bytes, or none at the end of the stream. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0)
			return -errno;
		if (!n)
			break;
		got += n;
	}
	return got;
}

/*
 * How many tasks have an entry in the map at @map_path, and how many lost
 * a vouched one the guard has not counted yet (their task has not run).
 */
int tldtool_count_entries(const char *map_path, unsigned long long *count,
			  unsigned long long *erased_pending)
{
	struct tld_iter_bpf *skel;
	struct bpf_link *link;
	char buf[64];
	int fd, err;

	err = iter_load(map_path, &skel);
	if (err)
		return err;
	fd = iter_start(skel->progs.tld_count_entries, 0, &link);
	if (fd < 0) {
		tld_iter_bpf__destroy(skel);
		return fd;
	}
	err = read_full(fd, buf, sizeof(buf)) < 0 ? -errno : 0;
	*count = skel->bss->entries;
	*erased_pending = skel->bss->erased_pending;
	close(fd);
	bpf_link__destroy(link);
	tld_iter_bpf__destroy(skel);
	return err;
}

/* Call @fn for each task of @pid (0: all) with an entry. */
int tldtool_dump(const char *map_path, pid_t pid, tldtool_record_fn fn, void *ctx)
{
	static unsigned char raw[TLD_DUMP_RECORD_SIZE];
	static struct tld_record rec;
	struct tld_iter_bpf *skel;
	struct bpf_link *link;
	ssize_t n;
	int fd, err;

	err = iter_load(map_path, &skel);
	if (err)
		return err;
	fd = iter_start(skel->progs.tld_dump, pid, &link);
	if (fd < 0) {
		tld_iter_bpf__destroy(skel);
		return fd;
	}
	while ((n = read_full(fd, raw, sizeof(raw))) == (ssize_t)sizeof(raw)) {
		memcpy(&rec.head, raw, sizeof(rec.head));
		memcpy(&rec.meta, raw + sizeof(rec.head), TLD_DUMP_META_SIZE);
		memcpy(rec.data, raw + sizeof(rec.head) + TLD_DUMP_META_SIZE, TLD_PAGE_SIZE);
		err = fn(&rec, ctx);
		if (err)
			break;
	}
	if (!err && n)
		err = n < 0 ? n : -EIO;
	close(fd);
	bpf_link__destroy(link);
	tld_iter_bpf__destroy(skel);
	return err;
}
