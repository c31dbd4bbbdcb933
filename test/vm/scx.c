// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <tld/loader.h>

#include "harness.h"
#include "balance.h"
#include "scx.h"

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f && fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

bool scx_state_is(const char *want)
{
	char state[32];
	int i;

	for (i = 0; i < 100; i++) {
		read_line("/sys/kernel/sched_ext/state", state, sizeof(state));
		if (!strcmp(state, want))
			return true;
		usleep(10000);
	}
	printf("sched_ext state: %s, want %s\n", state, want);
	return false;
}

struct scx_tld_bpf *scx_load(const char *agent_dir, struct bpf_link **link)
{
	struct scx_tld_bpf *s = scx_tld_bpf__open();
	char ops[32];
	int err;

	err = s ? tld_loader_reuse_map(s->obj, NULL) : -1;
	if (!err && agent_dir) {
		err = tld_loader_reuse_agent(s->obj, agent_dir);
		s->rodata->nr_doms = sysconf(_SC_NPROCESSORS_ONLN);
	}
	if (!err)
		err = scx_tld_bpf__load(s);
	if (err)
		th_fatal("load scx_tld: %d", err);
	*link = bpf_map__attach_struct_ops(s->maps.scx_tld_ops);
	if (!*link)
		th_fatal("attach scx_tld: %m");
	TH_CHECK(scx_state_is("enabled"), "scx_tld is not enabled");
	read_line("/sys/kernel/sched_ext/root/ops", ops, sizeof(ops));
	TH_CHECK(!strcmp(ops, "tld"), "root/ops is '%s'", ops);
	return s;
}

void scx_unload(struct scx_tld_bpf *s, struct bpf_link *link)
{
	bpf_link__destroy(link);
	TH_CHECK(scx_state_is("disabled"), "scx_tld did not unload");
	TH_CHECK(!s->bss->exit_info.kind || strstr(s->bss->exit_info.reason, "unregistered"),
		 "scx_tld stopped for another reason: %s %s", s->bss->exit_info.reason,
		 s->bss->exit_info.msg);
	scx_tld_bpf__destroy(s);
}
