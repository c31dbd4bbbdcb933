/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A reader of the other published TLD layout, scx's copy of the header
 * (scheds/include/scx/task_local_data.bpf.h, since Feb 2026), written here
 * from its layout, with the same calls as the kernel's: the map value is
 * only {data, meta}, and the data area's start is the data page's first
 * u64, which that header keeps in an int. A key is found by name in the
 * meta page, its offset the sum of the rounded sizes before it.
 */
#ifndef TH_SCX_TLD_BPF_H
#define TH_SCX_TLD_BPF_H

#ifndef __uptr
#define __uptr __attribute__((btf_type_tag("uptr")))
#endif

#define SCX_TLD_PAGE	4096
#define SCX_TLD_KEYS	63

typedef struct {
	__s16 off;
} tld_key_t;

struct tld_metadata {
	char name[62];
	__u16 size;
};

struct tld_meta_u {
	__u16 cnt;
	__u16 size;
	struct tld_metadata metadata[SCX_TLD_KEYS];
};

struct tld_data_u {
	__u64 start;
	char data[SCX_TLD_PAGE - 8];
};

struct tld_map_value {
	struct tld_data_u __uptr *data;
	struct tld_meta_u __uptr *meta;
};

struct tld_object {
	struct tld_map_value *value;
	/* The pointees' definitions in BTF, or the verifier sees scalars. */
	struct tld_data_u data_dummy[0];
	struct tld_meta_u meta_dummy[0];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tld_map_value);
} tld_data_map SEC(".maps");

static __always_inline int tld_object_init(struct task_struct *task, struct tld_object *obj)
{
	obj->value = bpf_task_storage_get(&tld_data_map, task, 0, 0);
	return obj->value ? 0 : -61;	/* -ENODATA */
}

/* The offset of @name from the data page, as the layout says: start + sum. */
static __always_inline int scx_tld_find(struct tld_object *obj, const char *name)
{
	struct tld_meta_u *meta = obj->value->meta;
	struct tld_data_u *data = obj->value->data;
	int i, start, off = 0;

	if (!meta || !data)
		return 0;
	start = data->start;
	bpf_for(i, 0, meta->cnt) {
		if (i >= SCX_TLD_KEYS)
			break;
		if (!bpf_strncmp(meta->metadata[i].name, sizeof(meta->metadata[i].name), name))
			return start + off;
		off += (meta->metadata[i].size + 7) & ~7;
	}
	return 0;
}

#define tld_get_data(obj, key, name, size)					\
	({									\
		long __off = scx_tld_find(obj, name);				\
		void *__p = NULL;						\
										\
		/* Checked in the register it is used in, for the verifier. */	\
		if (__off > 0) {						\
			barrier_var(__off);					\
			if (__off < SCX_TLD_PAGE - (size))			\
				__p = (void *)(obj)->value->data + __off;	\
		}								\
		__p;								\
	})

#endif /* TH_SCX_TLD_BPF_H */
