// SPDX-License-Identifier: MIT
/*
 * The one JSON writer. Values are built with jansson and written as they come,
 * so a verb that lists millions of frames streams an array instead of holding
 * it in memory.
 */
#include <stdio.h>
#include "cli/cli.h"

static int array_items;

static size_t flags(void)
{
	return (pretty_output ? JSON_INDENT(2) : JSON_COMPACT) |
	       JSON_PRESERVE_ORDER | JSON_ENCODE_ANY;
}

void jw_value(json_t *v)
{
	if (!v)
		return;
	json_dumpf(v, stdout, flags());
	fputc('\n', stdout);
	json_decref(v);
}

void jw_array_begin(void)
{
	array_items = 0;
	fputc('[', stdout);
}

void jw_array_item(json_t *v)
{
	if (!v)
		return;
	if (array_items++)
		fputc(',', stdout);
	if (pretty_output)
		fputs("\n", stdout);
	json_dumpf(v, stdout, flags());
	json_decref(v);
}

void jw_array_end(void)
{
	fputs(pretty_output && array_items ? "\n]\n" : "]\n", stdout);
}
