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

/*
 * @s, at most @max bytes, for a terminal: control and non-ASCII bytes as
 * \xNN, so that no value, key name or comm can forge output; padded to
 * @width.
 */
void print_escaped(FILE *out, const char *s, size_t max, int width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	int n = 0;

	for (i = 0; i < max && p[i]; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			n += fputc(p[i], out) != EOF;
		else
			n += fprintf(out, "\\x%02x", p[i]);
	}
	for (; n < width; n++)
		fputc(' ', out);
}
