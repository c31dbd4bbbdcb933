/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The records of test/agent's store, as its BPF program and the test see them. */
#ifndef TH_AGENT_H
#define TH_AGENT_H

/* A task's record: 64 bytes. */
struct th_agent_stamp {
	struct tld_seq seq;
	__u64 tid;		/* the task's tid */
	__u64 check;		/* ~tid: a torn or foreign record fails it */
};

struct th_agent_task {
	struct th_agent_stamp stamp;	/* BPF, when the record is made */
	__u64 agent;		/* the agent writes it */
	__u64 seen;		/* BPF, at a mark: the agent's value it saw */
	__u64 cgroup_seen;	/* BPF, at a mark: its cgroup record's value */
	__u64 pad[2];
};

/* A cgroup's record: 64 bytes. */
struct th_agent_cgroup {
	__u64 value;		/* the agent writes it */
	__u64 pad[7];
};

#endif
