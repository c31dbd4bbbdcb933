/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel selftests' task_local_data.bpf.h, extracted at build time,
 * with what the selftests' (and scx's) build environment gives it.
 */
#ifndef __uptr
#define __uptr __attribute__((btf_type_tag("uptr")))
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#include "task_local_data.bpf.h"
