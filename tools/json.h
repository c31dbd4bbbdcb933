/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal JSON writer, compact or pretty like bpftool's -j and -p. */
#ifndef TLDTOOL_JSON_H
#define TLDTOOL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json {
	FILE *out;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out, bool pretty);
/* @name is NULL inside arrays and at the top level. */
void json_object_start(struct json *j, const char *name);
void json_object_end(struct json *j);
void json_array_start(struct json *j, const char *name);
void json_array_end(struct json *j);
void json_str(struct json *j, const char *name, const char *val);
void json_uint(struct json *j, const char *name, uint64_t val);
void json_int(struct json *j, const char *name, int64_t val);
void json_bool(struct json *j, const char *name, bool val);
void json_hex(struct json *j, const char *name, const void *buf, size_t len);

#endif
