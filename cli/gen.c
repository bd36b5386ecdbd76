// SPDX-License-Identifier: MIT
/* Man pages and bash completion, made from the same tables as parsing and
 * --help (`stasis help --man[=OBJECT]`, `stasis help --completion`): the
 * build writes them, make install installs them, so they cannot drift from
 * what the binary accepts. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

#define OPTS_MAX 64

/* Text for roff: a backslash doubled, '-' escaped (so it is a hyphen,
 * not a dash), a line starting with '.' or '\'' protected. */
static void roff(const char *s)
{
	bool bol = true;

	for (; s && *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", stdout);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

/* An object with a page of its own (help is not one). */
static bool has_page(const struct cmd *c)
{
	return c->verbs || (c->opts && strcmp(c->name, "help"));
}

static void man_head(const char *name, const char *what)
{
	printf(".TH ");
	roff(name);
	printf(" 8 \"\" \"stasis %s\" \"System Administration\"\n.SH NAME\n", STASIS_VERSION);
	roff(name);
	printf(" \\- ");
	roff(what);
	printf("\n");
}

/* One verb: its synopsis, what it does, each option. */
static void man_verb(const char *path, const struct cmd *c)
{
	const struct cli_opt *o[OPTS_MAX];
	int n = c->opts ? cli_opts_list(c->opts, o, OPTS_MAX) : 0;
	char syn[2048];

	printf(".SS \"");
	roff(path);
	printf("\"\n.B stasis ");
	roff(path);
	printf("\n");
	if (c->opts) {
		cli_synopsis(c, syn, sizeof(syn));
		roff(syn);
	} else {
		roff(c->help);
	}
	printf("\n.PP\n");
	if (c->opts)
		roff(c->help);
	printf("\n");
	for (int i = 0; i < n; i++) {
		const char *a = cli_opt_arg(o[i]);

		printf(".TP\n.B ");
		if (o[i]->short_name)
			printf("\\-%c, ", o[i]->short_name);
		printf("\\-\\-");
		roff(o[i]->name);
		if (a) {
			printf(" \\fI");
			roff(a);
			printf("\\fR");
		}
		printf("\n");
		roff(o[i]->help);
		printf("%s\n", o[i]->required ? " (required)" : "");
	}
}

static void man_verbs(const char *prefix, const struct cmd *verbs)
{
	char path[128];

	for (const struct cmd *v = verbs; v->name; v++) {
		snprintf(path, sizeof(path), "%s %s", prefix, v->name);
		if (v->verbs)
			man_verbs(path, v->verbs);
		else
			man_verb(path, v);
	}
}

static int man_object(const struct cmd *obj)
{
	char name[64];

	snprintf(name, sizeof(name), "stasis-%s", obj->name);
	man_head(name, obj->help + (obj->verbs ? strlen("VERB ...  ") : 0));
	printf(".SH SYNOPSIS\n.B stasis\n[\\fB\\-j\\fR|\\fB\\-p\\fR] ");
	roff(obj->name);
	printf(obj->verbs ? " \\fIVERB\\fR [\\fIARGS\\fR]\n" : " [\\fIOPTIONS\\fR]\n");
	printf(".SH %s\n", obj->verbs ? "VERBS" : "DESCRIPTION");
	if (obj->verbs)
		man_verbs(obj->name, obj->verbs);
	else
		man_verb(obj->name, obj);
	printf(".PP\nEvery option takes \\fB\\-\\-opt=value\\fR as well as \\fB\\-\\-opt value\\fR; "
	       "\\fBstasis %s", obj->name);
	printf(obj->verbs ? " \\fIVERB\\fB \\-\\-help\\fR prints the same as this page for one verb.\n" :
			    " \\-\\-help\\fR prints the same as this page.\n");
	printf(".SH SEE ALSO\n.BR stasis (8)\n");
	return EXIT_OK;
}

static int man_main(void)
{
	man_head("stasis", "freeze a network of QEMU VMs and the frames between them");
	printf(".SH SYNOPSIS\n.B stasis\n[\\fB\\-j\\fR|\\fB\\-\\-json\\fR] [\\fB\\-p\\fR|\\fB\\-\\-pretty\\fR] "
	       "[\\fB\\-\\-debug\\fR] \\fIOBJECT\\fR \\fIVERB\\fR [\\fIARGS\\fR]\n"
	       ".SH DESCRIPTION\nstasis holds every frame between VMs in BPF, stops and saves the VMs "
	       "at once, across hosts, and restores, resumes, replays, edits and fuzzes the experiment "
	       "from that moment. Objects and verbs take unique prefixes.\n.SH OBJECTS\n");
	for (const struct cmd *c = cli_objects; c->name; c++) {
		size_t skip = c->verbs ? strlen("VERB ...  ") : 0;
		const char *h = c->help ? c->help + (strlen(c->help) > skip ? skip : 0) : "";

		printf(".TP\n.B ");
		roff(c->name);
		printf("\n");
		char line[256];

		while (*h == ' ')
			h++;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(h, "\n"), h);
		roff(line);
		if (has_page(c))
			printf(" (\\fBstasis\\-%s\\fR(8))", c->name);
		printf("\n");
	}
	printf(".SH OPTIONS\n.TP\n.BR \\-j ,\\ \\-\\-json\nJSON on stdout, errors as JSON too.\n"
	       ".TP\n.BR \\-p ,\\ \\-\\-pretty\nIndented JSON.\n"
	       ".TP\n.B \\-\\-debug\nlibbpf's and libxdp's own output, the verifier's whole log.\n"
	       ".SH EXIT STATUS\n0 done, 1 the operation failed, 2 usage error.\n"
	       ".SH SEE ALSO\n");
	for (const struct cmd *c = cli_objects; c->name; c++)
		if (has_page(c))
			printf(".BR stasis\\-%s (8)%s\n", c->name, c[1].name && has_page(c + 1) ? "," : "");
	return EXIT_OK;
}

int cli_gen_man(const char *obj)
{
	if (!obj)
		return man_main();
	for (const struct cmd *c = cli_objects; c->name; c++)
		if (!strcmp(c->name, obj) && has_page(c))
			return man_object(c);
	return p_usage("help --man: no object '%s'", obj);
}

/* ---- bash completion ---------------------------------------------------- */

/* One case of _stasis_words: what may follow PATH. */
static void comp_node(const char *path, const struct cmd *c)
{
	const struct cli_opt *o[OPTS_MAX];
	int n;

	printf("\t\"%s\") echo \"", path);
	if (c->verbs) {
		for (const struct cmd *v = c->verbs; v->name; v++)
			printf("%s%s", v == c->verbs ? "" : " ", v->name);
		printf(" help");
	} else {
		n = c->opts ? cli_opts_list(c->opts, o, OPTS_MAX) : 0;
		for (int i = 0; i < n; i++)
			printf("%s--%s", i ? " " : "", o[i]->name);
		printf("%s--help", n ? " " : "");
	}
	printf("\" ;;\n");
}

/* One case of _stasis_value: the choices of each option of PATH that
 * takes a value ("-" for any value: files are offered). */
static void comp_values(const char *path, const struct cmd *c)
{
	const struct cli_opt *o[OPTS_MAX];
	int n = c->opts ? cli_opts_list(c->opts, o, OPTS_MAX) : 0;

	for (int i = 0; i < n; i++) {
		if (o[i]->kind == CLI_OPT_FLAG)
			continue;
		printf("\t\"%s --%s\"", path, o[i]->name);
		if (o[i]->short_name)
			printf("|\"%s -%c\"", path, o[i]->short_name);
		printf(") echo \"");
		if (o[i]->kind == CLI_OPT_ENUM)
			for (int k = 0; o[i]->words[k]; k++)
				printf("%s%s", k ? " " : "", o[i]->words[k]);
		else
			printf("-");
		printf("\" ;;\n");
	}
}

static void comp_walk(const char *prefix, const struct cmd *cmds, bool values)
{
	char path[128];

	for (const struct cmd *c = cmds; c->name; c++) {
		if (!c->verbs && !c->opts)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? " " : "", c->name);
		if (values)
			comp_values(path, c);
		else
			comp_node(path, c);
		if (c->verbs)
			comp_walk(path, c->verbs, values);
	}
}

int cli_gen_completion(void)
{
	printf("# bash completion for stasis (made by `stasis help --completion`)\n"
	       "_stasis_words() {\n\tcase \"$1\" in\n\t\"\") echo \"");
	for (const struct cmd *c = cli_objects; c->name; c++)
		printf("%s ", c->name);
	printf("-j --json -p --pretty --debug\" ;;\n");
	comp_walk("", cli_objects, false);
	printf("\t*) return 1 ;;\n\tesac\n}\n"
	       "_stasis_value() {\n\tcase \"$1\" in\n");
	comp_walk("", cli_objects, true);
	printf("\t*) return 1 ;;\n\tesac\n}\n"
	       "_stasis() {\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path= w i v\n"
	       "\t# the object and verb words typed so far\n"
	       "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "\t\tw=${COMP_WORDS[i]}\n"
	       "\t\t_stasis_words \"${path:+$path }$w\" > /dev/null 2>&1 && path=\"${path:+$path }$w\"\n"
	       "\tdone\n"
	       "\tif [ \"$COMP_CWORD\" -gt 1 ] && v=$(_stasis_value \"$path ${prev%%%%=*}\"); then\n"
	       "\t\tif [ \"$v\" = - ]; then COMPREPLY=($(compgen -f -- \"$cur\"));\n"
	       "\t\telse COMPREPLY=($(compgen -W \"$v\" -- \"$cur\")); fi\n"
	       "\t\treturn\n"
	       "\tfi\n"
	       "\tCOMPREPLY=($(compgen -W \"$(_stasis_words \"$path\")\" -- \"$cur\"))\n"
	       "\t[ ${#COMPREPLY[@]} -gt 0 ] || COMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "}\n"
	       "complete -F _stasis stasis\n");
	return EXIT_OK;
}
