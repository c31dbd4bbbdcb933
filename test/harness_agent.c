// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Agent stores for the tests that use one. Apart from harness.c, so that
 * only those tests link libtld's agent API: test/unload checks that a
 * program that never calls libtld does not load it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <tld/agent.h>

#include "harness.h"

/*
 * Skip where the kernel makes no arena map (before 6.9, or refused by
 * policy: some hosts answer EPERM even to root). The VM suite sets
 * TLD_EXPECT_ARENA=1, where that is a failure, not a skip.
 */
static void need_arena(void)
{
	const char *expect = getenv("TLD_EXPECT_ARENA");

	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARENA, NULL) == 1)
		return;
	if (expect && atoi(expect))
		th_fatal("this kernel makes no arena map, but TLD_EXPECT_ARENA=%s", expect);
	th_skip("this kernel makes no arena map");
}

struct tld_agent *th_agent_create(const char *dir, const char *args)
{
	TLD_AGENT_OPTS(opts, .path = dir);
	char cmd[512], out[1024];
	struct tld_agent *a;

	need_arena();
	snprintf(cmd, sizeof(cmd), "--path %s agent create %s", dir, args);
	if (th_tldtool(cmd, out, sizeof(out)))
		th_fatal("tldtool %s: %s", cmd, out);
	if (tld_agent_open(&opts, &a))
		th_fatal("cannot open the agent store at %s", dir);
	return a;
}

void *th_agent_record(struct tld_agent *a, pid_t tid, struct tld_agent_ref *ref)
{
	void *p = tld_agent_task(a, tid, ref);

	if (!p && !tld_agent_maintain(a))
		p = tld_agent_task(a, tid, ref);
	if (!p)
		th_fatal("thread %d has no record in the agent store", tid);
	return p;
}

void th_agent_remove(struct tld_agent *a, const char *dir)
{
	char cmd[512];

	tld_agent_close(a);
	snprintf(cmd, sizeof(cmd), "--path %s agent remove", dir);
	if (th_tldtool(cmd, NULL, 0))
		th_fatal("tldtool %s failed", cmd);
	rmdir("/sys/fs/bpf/tld-test");
}
