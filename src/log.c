// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Where libtld's messages go. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int tld_print_stderr(const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static _Atomic(tld_print_fn_t) tld_print = tld_print_stderr;

TLD_API tld_print_fn_t tld_set_print(tld_print_fn_t fn)
{
	return __atomic_exchange_n(&tld_print, fn, __ATOMIC_ACQ_REL);
}

static void tld_call_print(tld_print_fn_t fn, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fn(fmt, args);
	va_end(args);
}

static __thread bool tld_held;
static __thread char tld_held_msg[640];

/* Keep this thread's messages instead of printing them. */
void tld_log_hold(void)
{
	tld_held = true;
	tld_held_msg[0] = '\0';
}

/* Stop holding, and print the last held message if @print. */
void tld_log_release(bool print)
{
	tld_print_fn_t fn = __atomic_load_n(&tld_print, __ATOMIC_ACQUIRE);

	tld_held = false;
	if (print && fn && tld_held_msg[0])
		tld_call_print(fn, "%s", tld_held_msg);
}

/* Report what went wrong, with the errno's text, and return @err. */
int tld_err(int err, const char *fmt, ...)
{
	tld_print_fn_t fn = __atomic_load_n(&tld_print, __ATOMIC_ACQUIRE);
	char msg[512];
	va_list args;

	if (!fn)
		return err;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (tld_held)
		snprintf(tld_held_msg, sizeof(tld_held_msg), "libtld: %s: %s\n", msg, strerror(-err));
	else
		tld_call_print(fn, "libtld: %s: %s\n", msg, strerror(-err));
	return err;
}
