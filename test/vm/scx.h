/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the VM tests of scx_tld share: loading it, checking that the kernel
 * runs it, and unloading it.
 */
#ifndef TEST_VM_SCX_H
#define TEST_VM_SCX_H

#include <stdbool.h>
#include <bpf/libbpf.h>

#include "scx_tld.h"
#include "scx_tld.skel.h"

/* Whether /sys/kernel/sched_ext/state reads @want within a second. */
bool scx_state_is(const char *want);

/*
 * Load scx_tld over the tld map, and over the agent store in @agent_dir if
 * not NULL, with a domain per online CPU; attach it and check that the
 * kernel runs it. Fatal on failure.
 */
struct scx_tld_bpf *scx_load(const char *agent_dir, struct bpf_link **link);

/* Detach @s and check that it went because it was asked to. */
void scx_unload(struct scx_tld_bpf *s, struct bpf_link *link);

#endif
