/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What pingpong and wakematrix agree on. */
#ifndef WAKEUPS_H
#define WAKEUPS_H

#define ROLE_KEY	"role"

/* Role 0 is a task with no tld data, or no role. */
enum { ROLE_NONE, ROLE_PING, ROLE_PONG, ROLES };

#endif
