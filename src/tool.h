/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The part of libtld that tldtool shares, and nothing else: tldtool links
 * libtld.a and finds, opens and checks the map exactly as the library
 * does, so both give the same answer and the same message. Not installed;
 * not an API for applications.
 */
#ifndef TLD_TOOL_H
#define TLD_TOOL_H

#include <stdbool.h>

/* The map path: $TLD_MAP_PATH, else TLD_DEFAULT_MAP_PATH. */
const char *tld__map_default_path(void);
/* Whether the nearest existing ancestor of @path is on a bpffs. */
bool tld__on_bpffs(const char *path);
/* A checked, read-write fd for the tld map at @path, or -errno (said). */
int tld__map_open(const char *path);
/* Whether the kernel's BTF has __uptr fields: 1, 0, or -1 if unreadable. */
int tld__kernel_has_uptr(void);

#endif /* TLD_TOOL_H */
