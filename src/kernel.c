// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the running kernel offers, for messages that name what is missing.
 * The one question so far is __uptr support, asked of the kernel's BTF:
 * an unprivileged process cannot probe it by creating a map.
 */
#include <fcntl.h>
#include <linux/btf.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * Whether the BTF string table holds the name BPF_UPTR, the enumerator of
 * enum btf_field_type that __uptr fields brought (6.13). Only the string
 * section is read, in small steps with a name's length carried over, since
 * the calling thread's stack may be small and the BTF has no size limit.
 */
static int tld_btf_has_name(int fd, const struct btf_header *h)
{
	static const char name[] = "\0BPF_UPTR";	/* with both NULs */
	const size_t carry = sizeof(name) - 1;
	char buf[2048];
	size_t have = 0, left = h->str_len;
	off_t pos = (off_t)h->hdr_len + h->str_off;
	ssize_t n;

	while (left) {
		n = pread(fd, buf + have, sizeof(buf) - have < left ? sizeof(buf) - have : left,
			  pos);
		if (n <= 0)
			return -1;
		pos += n;
		left -= n;
		have += n;
		if (memmem(buf, have, name, sizeof(name)))
			return 1;
		if (have > carry) {
			memmove(buf, buf + have - carry, carry);
			have = carry;
		}
	}
	return 0;
}

int tld__kernel_has_uptr(void)
{
	struct btf_header h;
	int fd, ret = -1;

	fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, &h, sizeof(h), 0) == sizeof(h) && h.magic == BTF_MAGIC &&
	    h.hdr_len >= sizeof(h))
		ret = tld_btf_has_name(fd, &h);
	close(fd);
	return ret;
}
