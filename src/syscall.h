/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Thin wrappers over the raw system calls libtld makes. Each returns the
 * result or -errno, so that callers never read errno.
 */
#ifndef TLD_SYSCALL_H
#define TLD_SYSCALL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

static inline long tld_sys_result(long ret)
{
	return ret < 0 ? -errno : ret;
}

static inline int tld_sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return tld_sys_result(syscall(__NR_bpf, cmd, attr, sizeof(*attr)));
}

static inline pid_t tld_sys_gettid(void)
{
	return syscall(__NR_gettid);
}

/* A pidfd for the thread @tid, not its thread group (PIDFD_THREAD, 6.9+). */
static inline int tld_sys_pidfd_open(pid_t tid)
{
	return tld_sys_result(syscall(__NR_pidfd_open, tid, PIDFD_THREAD));
}

static inline int tld_sys_close(int fd)
{
	return tld_sys_result(close(fd));
}

static inline int tld_bpf_obj_get(const char *path)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.pathname = (__u64)(unsigned long)path;
	attr.file_flags = 0;
	return tld_sys_bpf(BPF_OBJ_GET, &attr);
}

static inline int tld_bpf_map_info(int fd, struct bpf_map_info *info)
{
	union bpf_attr attr;

	memset(info, 0, sizeof(*info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = fd;
	attr.info.info_len = sizeof(*info);
	attr.info.info = (__u64)(unsigned long)info;
	return tld_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr);
}

static inline int tld_bpf_map_elem(enum bpf_cmd cmd, int fd, const void *key,
				   void *value, __u64 flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_fd = fd;
	attr.key = (__u64)(unsigned long)key;
	attr.value = (__u64)(unsigned long)value;
	attr.flags = flags;
	return tld_sys_bpf(cmd, &attr);
}

#endif /* TLD_SYSCALL_H */
