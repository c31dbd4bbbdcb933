// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tests' reader, through tld.bpf.h: on th_mark() it reads every test
 * key of the calling thread, or of the thread it names, and records what it
 * saw in `results`, keyed by that thread's tid. On th_store() it stores
 * into the calling thread's test.static, as a hint-writing program would,
 * and counts the stores that found the value in `stored`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <tld/tld.bpf.h>

#include "reader.h"

struct tld_keys {
	tld_key_t k[TH_NKEYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct th_result);
} results SEC(".maps");

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static struct th_result *result_of(__u32 tid)
{
	static const struct th_result zero;

	bpf_map_update_elem(&results, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&results, &tid);
}

/* Covered entries must be complete: count those that are not. */
static __u32 count_torn(struct tld_meta_u *meta, int cnt)
{
	__u32 torn = 0;
	int i;

	bpf_for(i, 0, cnt) {
		if (i >= TLD_MAX_KEYS)
			break;
		if (!meta->metadata[i].size || !meta->metadata[i].name[0])
			torn++;
	}
	return torn;
}

#define READ_KEY(slot, name, size)						\
	do {									\
		void *p = tld_get_data(&obj, k[slot], name, size);		\
										\
		r->off[slot] = p ? ((struct tld_keys *)obj.key_map->keys)->k[slot].off : -1;		\
		if (p) {							\
			r->head[slot] = *(__u64 *)p;				\
			r->tail[slot] = *(__u64 *)(p + (size) - 8);		\
		}								\
	} while (0)

static void read_task(struct task_struct *task, struct th_result *r)
{
	struct tld_object obj;
	__u32 cnt;

	r->hits++;
	r->init_err = tld_object_init(task, &obj);
	if (r->init_err)
		return;
	cnt = obj.meta->cnt;
	r->meta_cnt = cnt;
	r->torn += count_torn(obj.meta, cnt);
	READ_KEY(TH_STATIC, "test.static", 8);
	READ_KEY(TH_DYN, "test.dyn", 8);
	READ_KEY(TH_BLOB, "test.blob", 32);
	READ_KEY(TH_DL_KEY, "dl.key", 8);
	READ_KEY(TH_DL_BIG, "dl.big", 1024);
	READ_KEY(TH_K00, "k00", 8);
	READ_KEY(TH_K31, "k31", 8);
	READ_KEY(TH_K62, "k62", 8);
	READ_KEY(TH_FILL, "fill.last", 8);
}

__u64 stored;

static void store_task(struct task_struct *task, __u64 value)
{
	struct tld_object obj;
	__u64 *p;

	if (tld_object_init(task, &obj))
		return;
	p = tld_get_data(&obj, k[TH_STATIC], "test.static", 8);
	if (!p)
		return;
	*p = value;
	__sync_fetch_and_add(&stored, 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(th_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct th_result *r;
	__u64 arg;
	__u32 tid;

	if (id != TH_NR_GETPGID)
		return 0;
	arg = regs->di;
	if (arg >> 32 == TH_STORE_MAGIC) {
		th_ack();
		store_task(bpf_get_current_task_btf(), regs->si);
		return 0;
	}
	if (arg >> 32 != TH_MAGIC)
		return 0;
	th_ack();
	tid = (__u32)arg;
	if (!tid) {
		task = bpf_get_current_task_btf();
		r = result_of(task->pid);
		if (r)
			read_task(task, r);
		return 0;
	}
	task = bpf_task_from_pid(tid);
	if (!task)
		return 0;
	r = result_of(tid);
	if (r)
		read_task(task, r);
	bpf_task_release(task);
	return 0;
}

struct th_publish publish;

/*
 * At every meta entry write, entries below cnt must already be complete:
 * if cnt moved first, the entry being written is covered and empty.
 */
SEC("uprobe")
int BPF_UPROBE(th_entry_write)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct tld_map_value *v;
	struct tld_meta_u *meta;

	v = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	if (!v)
		return 0;
	meta = v->meta;
	if (!meta)
		return 0;
	__sync_fetch_and_add(&publish.writes, 1);
	__sync_fetch_and_add(&publish.torn, count_torn(meta, meta->cnt));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
