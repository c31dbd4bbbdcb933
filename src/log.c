// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Where libtld's messages go.
 *
 * The user's callback may call libtld back, so it never runs under the
 * process lock: what the lock's holder says waits in a buffer that only
 * the holder writes, and is printed after the lock is let go. The buffer is
 * static, not per thread: libtld's static TLS stays small, which plugin
 * hosts that dlopen() it need.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int tld_print_stderr(const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static tld_print_fn_t tld_print = tld_print_stderr;
static uintptr_t tld_log_owner;		/* pthread_self() of the deferring thread */
static bool tld_log_muted;
static char tld_log_held[1024];

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

void tld__log_defer(bool on)
{
	__atomic_store_n(&tld_log_owner, on ? (uintptr_t)pthread_self() : 0, __ATOMIC_RELAXED);
}

static bool tld_log_deferred(void)
{
	return __atomic_load_n(&tld_log_owner, __ATOMIC_RELAXED) == (uintptr_t)pthread_self();
}

void tld__log_mute(bool on)
{
	tld_log_muted = on;
	tld_log_held[0] = '\0';
}

/* Move the held messages to @buf. Called by the holder, still holding. */
void tld__log_take(char *buf, size_t len)
{
	snprintf(buf, len, "%s", tld_log_held);
	tld_log_held[0] = '\0';
}

void tld__log_print(const char *msg)
{
	tld_print_fn_t fn = __atomic_load_n(&tld_print, __ATOMIC_ACQUIRE);

	if (fn && msg[0])
		tld_call_print(fn, "%s", msg);
}

/* Report what went wrong, with the errno's text, and return @err. */
int tld__err(int err, const char *fmt, ...)
{
	tld_print_fn_t fn = __atomic_load_n(&tld_print, __ATOMIC_ACQUIRE);
	char msg[512];
	size_t used;
	va_list args;

	if (tld_log_muted || !fn)
		return err;
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (!tld_log_deferred()) {
		tld_call_print(fn, "libtld: %s: %s\n", msg, strerror(-err));
		return err;
	}
	used = strlen(tld_log_held);
	snprintf(tld_log_held + used, sizeof(tld_log_held) - used, "libtld: %s: %s\n", msg,
		 strerror(-err));
	return err;
}
