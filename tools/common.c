// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What every subcommand shares, apart from main(), so that no subcommand
 * depends on the file that dispatches to it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tldtool.h"

int tldtool_err(int err, const char *fmt, ...)
{
	va_list args;

	fputs("tldtool: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
	return TLDTOOL_ERROR;
}

const char *tldtool_map_path(const struct tldtool *t)
{
	return t->path ? t->path : tld__map_default_path();
}

/* @s for a terminal: control and non-ASCII bytes as \xNN, so that no value can forge output. */
void print_escaped(FILE *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			fputc(*p, out);
		else
			fprintf(out, "\\x%02x", *p);
	}
}
