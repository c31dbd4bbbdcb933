// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>

#include "json.h"

void json_init(struct json *j, FILE *out, bool pretty)
{
	j->out = out;
	j->pretty = pretty;
	j->depth = 0;
	j->first[0] = true;
}

static void json_indent(struct json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("    ", j->out);
}

static void json_string(struct json *j, const char *s)
{
	fputc('"', j->out);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(j->out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(j->out, "\\u%04x", c);
		else
			fputc(c, j->out);
	}
	fputc('"', j->out);
}

/* The separator and the member name before a value. */
static void json_member(struct json *j, const char *name)
{
	if (!j->first[j->depth])
		fputc(',', j->out);
	if (j->depth)
		json_indent(j);
	j->first[j->depth] = false;
	if (name) {
		json_string(j, name);
		fputs(j->pretty ? ": " : ":", j->out);
	}
}

static void json_open(struct json *j, const char *name, char c)
{
	json_member(j, name);
	fputc(c, j->out);
	if (j->depth < JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth)
		j->depth--;
	if (!empty)
		json_indent(j);
	fputc(c, j->out);
	if (!j->depth)
		fputc('\n', j->out);
}

void json_object_start(struct json *j, const char *name)
{
	json_open(j, name, '{');
}

void json_object_end(struct json *j)
{
	json_close(j, '}');
}

void json_array_start(struct json *j, const char *name)
{
	json_open(j, name, '[');
}

void json_array_end(struct json *j)
{
	json_close(j, ']');
}

void json_str(struct json *j, const char *name, const char *val)
{
	json_member(j, name);
	json_string(j, val);
}

void json_uint(struct json *j, const char *name, uint64_t val)
{
	json_member(j, name);
	fprintf(j->out, "%" PRIu64, val);
}

void json_int(struct json *j, const char *name, int64_t val)
{
	json_member(j, name);
	fprintf(j->out, "%" PRId64, val);
}

void json_bool(struct json *j, const char *name, bool val)
{
	json_member(j, name);
	fputs(val ? "true" : "false", j->out);
}

void json_hex(struct json *j, const char *name, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	json_member(j, name);
	fputc('"', j->out);
	for (i = 0; i < len; i++)
		fprintf(j->out, "%02x", p[i]);
	fputc('"', j->out);
}
