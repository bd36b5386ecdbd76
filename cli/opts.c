// SPDX-License-Identifier: MIT
/* Option tables: one declaration per verb, from which its parsing, its
 * synopsis and its --help are made (cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

#define FLAT_MAX 64

/* A table with its shared sets (CLI_OPT_TABLE) spliced in: each option and
 * where its struct starts in the verb's settings. */
struct flat {
	const struct cli_opt *o;
	size_t base;
};

static int flatten_as(const struct cli_opt *opts, size_t base, struct flat *f, int n, bool collapse)
{
	for (const struct cli_opt *o = opts; o && o->name && n < FLAT_MAX; o++) {
		if (o->kind == CLI_OPT_TABLE && !(collapse && o->arg))
			n = flatten_as(o->sub, base + o->off, f, n, collapse);
		else
			f[n++] = (struct flat){ o, base };
	}
	return n;
}

static int flatten(const struct cli_opt *opts, size_t base, struct flat *f, int n)
{
	return flatten_as(opts, base, f, n, false);
}

const struct cmd *cli_cmd(const struct cmd *cmds, const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const char *cli_opt_arg(const struct cli_opt *o)
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

int cli_opts_list(const struct cli_opt *opts, const struct cli_opt **out, int max)
{
	struct flat f[FLAT_MAX];
	int n = flatten(opts, 0, f, 0);

	for (int i = 0; i < n && i < max; i++)
		out[i] = f[i].o;
	return n < max ? n : max;
}

/* "--name ARG" or "-o ARG" (the short form where there is one: it reads
 * as users know it). */
static size_t opt_word(const struct cli_opt *o, char *buf, size_t len)
{
	const char *a = cli_opt_arg(o);

	if (o->short_name)
		return (size_t)snprintf(buf, len, "-%c%s%s", o->short_name, a ? " " : "", a ? a : "");
	return (size_t)snprintf(buf, len, "--%s%s%s", o->name, a ? " " : "", a ? a : "");
}

void cli_synopsis(const struct cmd *c, char *buf, size_t len)
{
	struct flat f[FLAT_MAX];
	int nf = flatten_as(c->opts, 0, f, 0, true);	/* shared sets by their name */
	size_t n = 0;

	buf[0] = 0;
	if (c->args && *c->args)
		n += (size_t)snprintf(buf + n, len - n, "%s", c->args);
	for (int i = 0; i < nf && n < len; i++) {
		const struct cli_opt *o = f[i].o;
		bool open = !o->required;

		if (o->kind == CLI_OPT_TABLE) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", o->arg);
			continue;
		}
		/* options that exclude each other, side by side: "[--cont|--quit]" */
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", open ? "[" : "");
		for (;;) {
			if (n < len)
				n += opt_word(f[i].o, buf + n, len - n);
			if (i + 1 >= nf || !o->group || !f[i + 1].o->group || strcmp(o->group, f[i + 1].o->group) ||
			    f[i + 1].o->kind == CLI_OPT_TABLE || n >= len)
				break;
			n += (size_t)snprintf(buf + n, len - n, "|");
			i++;
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", open ? "]" : "", f[i].o->repeat ? "..." : "");
	}
	if (c->rest && n < len)
		snprintf(buf + n, len - n, "%s[-- ARGS...]", n ? " " : "");
}

/* `stasis OBJ VERB --help`: the synopsis, what the verb does, each option. */
void cli_help(const struct cmd *c, const char *obj)
{
	struct flat f[FLAT_MAX];
	int nf = flatten(c->opts, 0, f, 0);
	char syn[2048];

	cli_synopsis(c, syn, sizeof(syn));
	printf("Usage: %s %s%s%s %s\n", bin_name, obj ? obj : "", obj ? " " : "", c->name, syn);
	if (c->help)
		printf("\n%s\n", c->help);
	if (nf)
		printf("\nOptions:\n");
	for (int i = 0; i < nf; i++) {
		const struct cli_opt *o = f[i].o;
		const char *a = cli_opt_arg(o);
		char left[96];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 a ? "=" : "", a ? a : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, a ? "=" : "", a ? a : "");
		printf("  %-30s %s%s\n", left, o->help ? o->help : "", o->required ? " (required)" : "");
	}
}

static int find_long(const struct flat *f, int nf, const char *name, size_t n)
{
	for (int i = 0; i < nf; i++)
		if (strlen(f[i].o->name) == n && !strncmp(f[i].o->name, name, n))
			return i;
	return -1;
}

static int find_short(const struct flat *f, int nf, char ch)
{
	for (int i = 0; i < nf; i++)
		if (f[i].o->short_name && f[i].o->short_name == ch)
			return i;
	return -1;
}

/* Store @v (NULL for a flag) where @o says; 0 or a usage status. */
static int set_opt(const char *verb, const struct cli_opt *o, const char *v, char *at)
{
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
	case CLI_OPT_U64:
		if (cli_u64(v, &u))
			return p_usage("%s: --%s wants a number, not '%s'", verb, o->name, v);
		*(uint64_t *)at = u;
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
		return p_usage("%s: --%s wants %s, not '%s'", verb, o->name, cli_opt_arg(o), v);
	case CLI_OPT_FN:
		return o->fn(verb, o, v, at);
	case CLI_OPT_TABLE:
		break;
	}
	return p_usage("%s: --%s: bad option table", verb, o->name);
}

/* Two options of one group both given, or a required one missing. */
static int check_given(const char *verb, const struct flat *f, int nf, const bool *given)
{
	for (int i = 0; i < nf; i++) {
		const struct cli_opt *a = f[i].o;

		for (int j = i + 1; a->group && given[i] && j < nf; j++)
			if (given[j] && f[j].o->group && !strcmp(a->group, f[j].o->group))
				return p_usage("%s: --%s and --%s exclude each other", verb,
					       a->name, f[j].o->name);
		if (a->required && !given[i])
			return p_usage("%s: --%s is required; try '%s %s --help'", verb, a->name,
				       bin_name, verb);
	}
	return 0;
}

int cli_parse(const struct cli_opt *opts, int argc, char **argv, void *cfg, char ***rest)
{
	struct flat f[FLAT_MAX];
	int nf = flatten(opts, 0, f, 0), npos = 0, r;
	bool given[FLAT_MAX] = { false };
	char who[64];
	const char *verb = who;

	/* Messages name the verb as it is typed: "vm start". */
	snprintf(who, sizeof(who), "%s%s%s", cli_obj, *cli_obj ? " " : "", argv[0]);
	if (rest)
		*rest = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		const struct cli_opt *o;
		int k;

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
			k = find_long(f, nf, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (eq)
				v = eq + 1;
		} else {
			k = a[2] ? -1 : find_short(f, nf, a[1]);
		}
		if (k < 0)
			return -p_usage("%s: unknown option '%s'; try '%s %s --help'", verb, a,
					bin_name, verb);
		o = f[k].o;
		if (o->kind == CLI_OPT_FLAG && v)
			return -p_usage("%s: --%s takes no value", verb, o->name);
		if (o->kind != CLI_OPT_FLAG && !v) {
			if (i + 1 >= argc)
				return -p_usage("%s: %s needs a value (%s)", verb, a, cli_opt_arg(o));
			v = argv[++i];
		}
		if ((r = set_opt(verb, o, v, (char *)cfg + f[k].base + o->off)))
			return -r;
		given[k] = true;
	}
	if ((r = check_given(verb, f, nf, given)))
		return -r;
	/* For the tests that walk every table: the parse is the whole run. */
	if (getenv("STASIS_CLI_PARSE_ONLY")) {
		printf("%s: parsed, %d positional\n", verb, npos);
		exit(EXIT_OK);
	}
	return npos;
}
