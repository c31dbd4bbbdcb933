/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The upstream task_local_data.bpf.h includes <errno.h>, which glibc cannot
 * provide to a BPF target. These are the values it uses.
 */
#define ENODATA	61
#define ENOMEM	12
