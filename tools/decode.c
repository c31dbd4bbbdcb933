// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How tldtool prints a value. A key name may end in a type: ":u8" ":u16"
 * ":u32" ":u64", ":s8".. ":s64", ":x8".. ":x64" (hexadecimal), ":bool",
 * ":str" or ":bytes", and the integer types may be arrays (":u32[4]"). A
 * type that does not fit the key's size is ignored. Without one: sizes 1,
 * 2, 4 and 8 print as unsigned integers, printable strings as strings,
 * anything else as hex bytes.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tldtool.h"

static const struct {
	const char *name;
	enum value_kind kind;
	unsigned int width;
} value_types[] = {
	{ "u8", VALUE_UINT, 1 }, { "u16", VALUE_UINT, 2 }, { "u32", VALUE_UINT, 4 },
	{ "u64", VALUE_UINT, 8 }, { "s8", VALUE_INT, 1 }, { "s16", VALUE_INT, 2 },
	{ "s32", VALUE_INT, 4 }, { "s64", VALUE_INT, 8 }, { "x8", VALUE_HEX, 1 },
	{ "x16", VALUE_HEX, 2 }, { "x32", VALUE_HEX, 4 }, { "x64", VALUE_HEX, 8 },
	{ "bool", VALUE_BOOL, 1 }, { "str", VALUE_STR, 0 }, { "bytes", VALUE_BYTES, 0 },
};

/* The type a ":TYPE" or ":TYPE[N]" suffix names, if it fits @size. */
static bool value_type_named(const char *name, unsigned int size, struct value_type *t)
{
	const char *colon = strrchr(name, ':');
	unsigned long count = 1;
	char spec[16], *bracket, *end;
	size_t i;

	if (!colon || strlen(colon + 1) >= sizeof(spec))
		return false;
	strcpy(spec, colon + 1);
	bracket = strchr(spec, '[');
	if (bracket) {
		count = strtoul(bracket + 1, &end, 10);
		if (!count || strcmp(end, "]"))
			return false;
		*bracket = '\0';
	}
	for (i = 0; i < sizeof(value_types) / sizeof(value_types[0]); i++) {
		if (strcmp(spec, value_types[i].name))
			continue;
		t->kind = value_types[i].kind;
		t->width = value_types[i].width;
		t->count = count;
		if (!t->width)		/* str and bytes take the whole key */
			return !bracket;
		return t->width * count == size;
	}
	return false;
}

static bool printable(const unsigned char *v, unsigned int size)
{
	unsigned int i = 0;

	while (i < size && v[i] && isprint(v[i]))
		i++;
	if (!i)
		return false;
	while (i < size && !v[i])
		i++;
	return i == size;
}

void value_type(const char *name, const void *v, unsigned int size, struct value_type *t)
{
	if (value_type_named(name, size, t))
		return;
	t->count = 1;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		t->kind = VALUE_UINT;
		t->width = size;
	} else {
		t->kind = printable(v, size) ? VALUE_STR : VALUE_BYTES;
		t->width = 0;
	}
}

static uint64_t value_word(const unsigned char *p, unsigned int width)
{
	uint64_t x = 0;

	memcpy(&x, p, width);
	return x;
}

static int64_t value_signed(uint64_t x, unsigned int width)
{
	unsigned int shift = 64 - 8 * width;

	return (int64_t)(x << shift) >> shift;
}

/* One integer or boolean element, as text. */
static void value_element(char *buf, size_t len, const struct value_type *t, const unsigned char *p)
{
	uint64_t x = value_word(p, t->width);

	switch (t->kind) {
	case VALUE_INT:
		snprintf(buf, len, "%" PRId64, value_signed(x, t->width));
		break;
	case VALUE_HEX:
		snprintf(buf, len, "0x%" PRIx64, x);
		break;
	case VALUE_BOOL:
		snprintf(buf, len, "%s", x ? "true" : "false");
		break;
	default:
		snprintf(buf, len, "%" PRIu64, x);
		break;
	}
}

void value_print(FILE *out, const struct value_type *t, const void *v, unsigned int size)
{
	const unsigned char *p = v;
	char buf[32];
	unsigned int i;

	if (t->kind == VALUE_STR) {
		fputc('"', out);
		for (i = 0; i < size && p[i]; i++)
			fputc(isprint(p[i]) ? p[i] : '?', out);
		fputc('"', out);
		return;
	}
	if (t->kind == VALUE_BYTES) {
		for (i = 0; i < size; i++)
			fprintf(out, "%02x", p[i]);
		return;
	}
	if (t->count > 1)
		fputc('[', out);
	for (i = 0; i < t->count; i++) {
		value_element(buf, sizeof(buf), t, p + i * t->width);
		fprintf(out, "%s%s", i ? "," : "", buf);
	}
	if (t->count > 1)
		fputc(']', out);
}

static void value_json_element(struct json *j, const char *name, const struct value_type *t,
			       const unsigned char *p)
{
	uint64_t x = value_word(p, t->width);
	char buf[32];

	switch (t->kind) {
	case VALUE_INT:
		json_int(j, name, value_signed(x, t->width));
		break;
	case VALUE_BOOL:
		json_bool(j, name, x);
		break;
	case VALUE_HEX:
		value_element(buf, sizeof(buf), t, p);
		json_str(j, name, buf);
		break;
	default:
		json_uint(j, name, x);
		break;
	}
}

void value_json(struct json *j, const char *name, const struct value_type *t, const void *v,
		unsigned int size)
{
	const unsigned char *p = v;
	char str[TLD_DATA_MAX + 1];
	unsigned int i;

	if (t->kind == VALUE_STR) {
		for (i = 0; i < size && i < sizeof(str) - 1 && p[i]; i++)
			str[i] = p[i];
		str[i] = '\0';
		json_str(j, name, str);
	} else if (t->kind == VALUE_BYTES) {
		json_hex(j, name, p, size);
	} else if (t->count == 1) {
		value_json_element(j, name, t, p);
	} else {
		json_array_start(j, name);
		for (i = 0; i < t->count; i++)
			value_json_element(j, NULL, t, p + i * t->width);
		json_array_end(j);
	}
}

const char *value_kind_name(const struct value_type *t)
{
	static const char *const names[] = {
		[VALUE_UINT] = "uint", [VALUE_INT] = "int", [VALUE_HEX] = "hex",
		[VALUE_BOOL] = "bool", [VALUE_STR] = "str", [VALUE_BYTES] = "bytes",
	};

	return names[t->kind];
}

/*
 * The keys a record's meta page publishes, whatever it holds. A key's
 * value is shown only if it lies in the data area: the start must not put
 * it in the page's header (a hostile start of 0 made a 4,096-byte value).
 */
int record_keys(const struct tld_record *r, struct key_view *keys)
{
	unsigned int cnt = r->meta.cnt < TLD_MAX_KEYS ? r->meta.cnt : TLD_MAX_KEYS;
	unsigned int start = r->head.start, i, off = 0;

	for (i = 0; i < cnt && off <= TLD_DATA_MAX; i++) {
		memcpy(keys[i].name, r->meta.metadata[i].name, TLD_NAME_LEN);
		keys[i].name[TLD_NAME_LEN] = '\0';
		keys[i].size = r->meta.metadata[i].size;
		keys[i].at = start + off;
		keys[i].in_page = start >= TLD_DATA_HDR && keys[i].size <= TLD_DATA_MAX &&
				  keys[i].at + keys[i].size <= TLD_PAGE_SIZE;
		off += TLD_ROUND_KEY(keys[i].size);
	}
	return i;
}
