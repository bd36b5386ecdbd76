// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

/* --help or -h before any "--". */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

/* A verb with a table answers --help itself (the verb never runs). */
const char *cli_obj = "";

static int run(const struct cmd *c, const char *obj, int argc, char **argv)
{
	if (obj)
		cli_obj = obj;
	if (c->opts && wants_help(argc, argv)) {
		cli_help(c, obj);
		return EXIT_OK;
	}
	return c->fn(argc, argv);
}

int cmd_select(const struct cmd *cmds, const char *obj, int argc, char **argv)
{
	const struct cmd *hit = NULL;
	char what[32];
	size_t n;

	snprintf(what, sizeof(what), "%s%s", obj ? obj : "object", obj ? " verb" : "");
	if (argc < 1)
		return p_usage("missing %s; try '%s %s%shelp'", what, bin_name,
			       obj ? obj : "", obj ? " " : "");
	/* Every object answers "help" with its verb table. */
	if (obj && strcmp(argv[0], "help") == 0) {
		printf("Usage:\n");
		for (const struct cmd *c = cmds; c->name; c++) {
			char syn[1024];

			if (c->opts)
				cli_synopsis(c, syn, sizeof(syn));
			const char *h = c->opts ? syn : c->help ? c->help : "";

			printf("  %s %s %s%s%s\n", bin_name, obj, c->name, *h ? " " : "", h);
		}
		printf("  %s %s help\n", bin_name, obj);
		return EXIT_OK;
	}
	n = strlen(argv[0]);
	for (const struct cmd *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[0]) == 0)
			return run(c, obj, argc, argv);	/* exact beats prefix */
		if (n && strncmp(c->name, argv[0], n) == 0) {
			if (hit)
				return p_usage("ambiguous %s '%s' (%s, %s, ...)",
					       what, argv[0], hit->name, c->name);
			hit = c;
		}
	}
	if (!hit)
		return p_usage("unknown %s '%s'; try '%s %s%shelp'", what, argv[0],
			       bin_name, obj ? obj : "", obj ? " " : "");
	return run(hit, obj, argc, argv);
}

static int vreport(int status, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One line, whatever the message carried. */
	for (char *s = msg; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	fprintf(stderr, "%s: %s\n", bin_name, msg);
	if (json_output) {
		json_t *e = json_pack("{s:s,s:i}", "error", msg, "status", status);
		jw_value(e);
	}
	return status;
}

int p_err(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vreport(EXIT_FAIL, fmt, ap);
	va_end(ap);
	return r;
}

int p_usage(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vreport(EXIT_USAGE, fmt, ap);
	va_end(ap);
	return r;
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}


int cli_bytes(const char *s, uint64_t *out)
{
	char *e;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (e == s || errno || v == 0)
		return -EINVAL;
	if (*e == 'K' || *e == 'k')
		shift = 10, e++;
	else if (*e == 'M' || *e == 'm')
		shift = 20, e++;
	else if (*e == 'G' || *e == 'g')
		shift = 30, e++;
	if (*e || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || *end) ? -EINVAL : 0;
}

