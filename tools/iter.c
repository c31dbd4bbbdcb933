// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Running tld's task iterators against the pinned map. */
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tld_iter.skel.h"
#include "tldtool.h"

/* Drain an iterator link: its program runs once per task. */
static int iter_run(struct bpf_link *link)
{
	char buf[4096];
	int fd, n;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* How many tasks have an entry in the map @map_fd. */
int tldtool_count_entries(int map_fd, unsigned long long *count)
{
	struct tld_iter_bpf *skel;
	struct bpf_link *link;
	int err;

	skel = tld_iter_bpf__open();
	if (!skel)
		return -errno;
	err = bpf_map__reuse_fd(skel->maps.tld_data_map, map_fd);
	if (!err)
		err = tld_iter_bpf__load(skel);
	if (err)
		goto out;
	link = bpf_program__attach_iter(skel->progs.tld_count_entries, NULL);
	if (!link) {
		err = -errno;
		goto out;
	}
	err = iter_run(link);
	*count = skel->bss->entries;
	bpf_link__destroy(link);
out:
	tld_iter_bpf__destroy(skel);
	return err;
}
