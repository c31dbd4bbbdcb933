/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every test program shares: a private pinned map made by tldtool,
 * the reader BPF program, the trigger, checks and the exit status
 * (0 pass, 77 skip, 1 fail) that test/run.sh counts.
 */
#ifndef TH_HARNESS_H
#define TH_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include <tld/tld.h>

#include "bpf/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TH_EXIT_SKIP	77

#define TH_CHECK(cond, ...) th_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

__attribute__((format(printf, 5, 6)))
bool th_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...);
/* Exit now: the test cannot go on. */
__attribute__((noreturn, format(printf, 1, 2)))
void th_fatal(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2)))
void th_skip(const char *fmt, ...);
/* Exit with the verdict of all checks so far. */
__attribute__((noreturn))
void th_done(void);

pid_t th_gettid(void);
/* A pidfd naming thread @tid (PIDFD_THREAD), or -1. */
int th_thread_pidfd(pid_t tid);
/* CLOCK_MONOTONIC in ns. */
__u64 th_now_ns(void);
/* This test program's path, and the build directory ($O). */
const char *th_exe(void);
const char *th_build_dir(void);
/* Run @cmd, its output (and errors) in @out; returns its exit status. */
int th_run(const char *cmd, char *out, size_t out_len);
/*
 * A child running @argv: this program unless argv[0] is a path; as @uid
 * (groups dropped) unless 0; with pipes to its stdin and from its stdout,
 * close-on-exec here, so that no other child keeps them open.
 */
struct th_proc {
	pid_t pid;
	int in, out;
};
void th_spawn(struct th_proc *p, uid_t uid, const char *const *argv);
/* Drop to @uid, groups included; exit 3 if the kernel refuses. */
void th_become(uid_t uid);

/* Run the built tldtool with @args. */
int th_tldtool(const char *args, char *out, size_t out_len);

/* A map for this test only; TLD_MAP_PATH names it. */
struct th_map {
	char dir[128];
	char path[160];
};
void th_map_create(struct th_map *m, const char *tldtool_args);
/* Name the map th_map_create() makes, and point TLD_MAP_PATH at it, only. */
void th_map_name(struct th_map *m);
void th_map_remove(struct th_map *m);
/* The number `tldtool map show -j` gives for @m under the JSON key @key. */
long long th_map_show(const struct th_map *m, const char *key);
/* How many threads have an entry in @m, counted by tldtool. */
int th_map_entries(struct th_map *m);
/*
 * Wait for @m to hold @want entries again: the kernel frees an exited
 * thread's entry (libtld leaves it) an RCU grace period after the thread
 * is reaped. A check: fails if 5 s are not enough.
 */
void th_map_entries_wait(struct th_map *m, int want);
/* kB of libtld's store mapped in this process, by smaps field ("Size", "Rss"). */
long th_store_kb(const char *field);
/* The counters of @m's guard (bpf/tld_guard.h). */
struct tld_guard_state;
void th_guard_state(const struct th_map *m, struct tld_guard_state *st);

/* In harness_agent.c. */
struct tld_agent;
struct tld_agent_ref;
/*
 * An agent store made at @dir by `tldtool agent create @args`, opened; a
 * skip if the kernel makes no arena map.
 */
struct tld_agent *th_agent_create(const char *dir, const char *args);
/* Close @a and remove the store at @dir. */
void th_agent_remove(struct tld_agent *a, const char *dir);
/*
 * @tid's record in @a, made by maintenance if the creation hook found no
 * free slot. Fatal if there is none.
 */
void *th_agent_record(struct tld_agent *a, pid_t tid, struct tld_agent_ref *ref);

/*
 * A task-storage map with BTF (the kernel demands it) whose value is a
 * struct of unsigned integer fields: @sizes[i] bytes each, laid out in
 * order, @value_size in all. An fd, or a negative errno.
 */
int th_task_storage_map(const char *name, const int *sizes, int n, int value_size);

/* The reader BPF program, attached, with tld_data_map reused. */
struct reader_bpf;
struct reader_bpf *th_reader_load(void);
void th_reader_destroy(struct reader_bpf *r);
/* Also watch every meta entry write of this process (struct th_publish). */
void th_reader_watch_publish(struct reader_bpf *r);
void th_reader_publish(struct reader_bpf *r, struct th_publish *out);
/* What the reader recorded for @tid; false if nothing. */
bool th_result(struct reader_bpf *r, pid_t tid, struct th_result *out);
/* Trigger the readers: read @tid's data, or the caller's for 0. */
void th_mark(pid_t tid);
/* Have the reader store @value into the caller's test.static (its `stored` counts it). */
void th_store(__u64 value);
/* Have th_mark() repeat until this reader's th_acks (reader.h) count it, or stop. */
void th_ack_watch(volatile __u32 *acks);
void th_ack_unwatch(volatile __u32 *acks);
/* Vouch to the guard as libtld does (TLD_VOUCH in tld/abi.h). */
void th_vouch(enum tld_vouch_op op, __u64 cookie, pid_t tid);

/* The cgroup v2 hierarchy's root (skips the test if there is none). */
const char *th_cgroup2_root(void);

/*
 * A child process that moved itself into the cgroup @cg and called
 * th_mark(0), held there until th_child_end(). False if it could not.
 */
struct th_child {
	pid_t pid;
	int up, down;
};
bool th_child_in_cgroup(struct th_child *c, const char *cg);
/* Let it exit; true if it exited cleanly. */
bool th_child_end(struct th_child *c);

/* A thread of this process that registered and waits until th_held_end(). */
struct th_held {
	pthread_t thread;
	int ready[2], release[2];
};
/* Start it; returns once it registered (tld_thread_init()). */
void th_held_start(struct th_held *h);
/* Let it exit, and join it. */
void th_held_end(struct th_held *h);

/* Collect libtld's messages instead of printing them. */
void th_capture(void);
/* Whether a collected message contains @needle; clears them. */
bool th_captured(const char *needle);
/* How many times @needle was collected; clears them. */
int th_captured_count(const char *needle);

#ifdef __cplusplus
}
#endif

#endif
