// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Vouching for this process's entries to the guard (TLD_VOUCH in
 * tld/abi.h). The prctl() renames the calling thread to the name it
 * already has; the guard's task_rename program sees who called it, which
 * no pidfd can fake. Without a guard it does nothing.
 */
#include <sys/prctl.h>

#include "internal.h"

void tld__vouch(enum tld_vouch_op op, __u64 cookie, pid_t tid)
{
	char name[16] = "";

	if (prctl(PR_GET_NAME, name))
		return;
	prctl(PR_SET_NAME, name, TLD_VOUCH(op), cookie, (unsigned long)tid);
}
