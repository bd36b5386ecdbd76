// SPDX-License-Identifier: MIT
/* Option tables: one declaration per verb, from which its parsing, its
 * synopsis and its --help are made (cli.h). */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

const struct cmd *cli_cmd(const struct cmd *cmds, const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static const char *opt_arg(const struct cli_opt *o)
{
	static char words[128];
	size_t n = 0;

	if (o->kind == CLI_OPT_FLAG)
		return NULL;
	if (o->kind != CLI_OPT_ENUM || o->arg)
		return o->arg ? o->arg : "VALUE";
	words[0] = 0;
	for (int i = 0; o->words[i] && n < sizeof(words); i++)
		n += (size_t)snprintf(words + n, sizeof(words) - n, "%s%s", i ? "|" : "", o->words[i]);
	return words;
}

void cli_synopsis(const struct cmd *c, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	if (c->args && *c->args)
		n += (size_t)snprintf(buf + n, len - n, "%s", c->args);
	for (const struct cli_opt *o = c->opts; o && o->name && n < len; o++) {
		const char *a = opt_arg(o);

		n += (size_t)snprintf(buf + n, len - n, "%s%s--%s%s%s%s", n ? " " : "",
				      o->required ? "" : "[", o->name, a ? " " : "", a ? a : "",
				      o->required ? "" : "]");
	}
	if (c->rest && n < len)
		snprintf(buf + n, len - n, "%s[-- ARGS...]", n ? " " : "");
}

/* `stasis OBJ VERB --help`: the synopsis, what the verb does, each option. */
void cli_help(const struct cmd *c, const char *obj)
{
	char syn[1024];

	cli_synopsis(c, syn, sizeof(syn));
	printf("Usage: %s %s %s %s\n", bin_name, obj, c->name, syn);
	if (c->help)
		printf("\n%s\n", c->help);
	if (c->opts && c->opts->name)
		printf("\nOptions:\n");
	for (const struct cli_opt *o = c->opts; o && o->name; o++) {
		char left[96];
		const char *a = opt_arg(o);

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 a ? "=" : "", a ? a : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, a ? "=" : "", a ? a : "");
		printf("  %-30s %s%s\n", left, o->help ? o->help : "", o->required ? " (required)" : "");
	}
}

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t n)
{
	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n))
			return o;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char ch)
{
	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (o->short_name && o->short_name == ch)
			return o;
	return NULL;
}

/* Store @v (NULL for a flag) where @o says; 0 or a usage status. */
static int set_opt(const char *verb, const struct cli_opt *o, const char *v, void *cfg)
{
	char *at = (char *)cfg + o->off;
	uint64_t u;

	switch (o->kind) {
	case CLI_OPT_FLAG:
		*(bool *)at = true;
		return 0;
	case CLI_OPT_STR:
		*(const char **)at = v;
		return 0;
	case CLI_OPT_INT:
		if (cli_u64(v, &u) || u < (uint64_t)o->lo || u > (uint64_t)o->hi)
			return p_usage("%s: --%s wants a number from %d to %d, not '%s'",
				       verb, o->name, o->lo, o->hi, v);
		*(int *)at = (int)u;
		return 0;
	case CLI_OPT_BYTES:
		if (cli_bytes(v, &u))
			return p_usage("%s: --%s wants BYTES[K|M|G], not '%s'", verb, o->name, v);
		*(uint64_t *)at = u;
		return 0;
	case CLI_OPT_ENUM:
		for (int i = 0; o->words[i]; i++)
			if (!strcmp(v, o->words[i]))
				return *(int *)at = i, 0;
		return p_usage("%s: --%s wants %s, not '%s'", verb, o->name, opt_arg(o), v);
	}
	return p_usage("%s: --%s: bad option table", verb, o->name);
}

/* Two options of one group both given. */
static int check_groups(const char *verb, const struct cli_opt *opts, const bool *given)
{
	int i = 0;

	for (const struct cli_opt *a = opts; a && a->name; a++, i++) {
		int j = i + 1;

		for (const struct cli_opt *b = a + 1; a->group && given[i] && b->name; b++, j++)
			if (given[j] && b->group && !strcmp(a->group, b->group))
				return p_usage("%s: --%s and --%s exclude each other", verb,
					       a->name, b->name);
	}
	return 0;
}

int cli_parse(const struct cli_opt *opts, int argc, char **argv, void *cfg, char ***rest)
{
	char who[64];
	const char *verb = who;
	bool given[64] = { false };
	int npos = 0, r, k = 0;

	/* Messages name the verb as it is typed: "vm start". */
	snprintf(who, sizeof(who), "%s%s%s", cli_obj, *cli_obj ? " " : "", argv[0]);
	if (rest)
		*rest = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		const struct cli_opt *o;

		if (!strcmp(a, "--")) {
			if (!rest)
				return -p_usage("%s: unexpected '--'", verb);
			*rest = argv + i + 1;
			break;
		}
		if (a[0] != '-' || !a[1]) {
			argv[1 + npos++] = argv[i];	/* positional: kept, in order */
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			o = find_long(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (eq)
				v = eq + 1;
		} else {
			o = a[2] ? NULL : find_short(opts, a[1]);
		}
		if (!o)
			return -p_usage("%s: unknown option '%s'; try '%s %s --help'", verb, a,
					bin_name, verb);
		if (o->kind == CLI_OPT_FLAG && v)
			return -p_usage("%s: --%s takes no value", verb, o->name);
		if (o->kind != CLI_OPT_FLAG && !v) {
			if (i + 1 >= argc)
				return -p_usage("%s: %s needs a value (%s)", verb, a, opt_arg(o));
			v = argv[++i];
		}
		if ((r = set_opt(verb, o, v, cfg)))
			return -r;
		if (o - opts < 64)
			given[o - opts] = true;
	}
	if ((r = check_groups(verb, opts, given)))
		return -r;
	for (const struct cli_opt *o = opts; o && o->name; o++, k++)
		if (o->required && k < 64 && !given[k])
			return -p_usage("%s: --%s is required; try '%s %s --help'", verb, o->name,
					bin_name, verb);
	return npos;
}
