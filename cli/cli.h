/* SPDX-License-Identifier: MIT */
/*
 * The thin CLI layer shared by every object: command tables with unique-prefix
 * matching, one error path, one JSON writer. Object files (loader/cli_net.c,
 * vmctl/cli_vm.c, ...) export one do_<object>() each.
 */
#ifndef STASIS_CLI_H
#define STASIS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Exit statuses of every verb. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

extern bool json_output;	/* -j/--json */
extern bool pretty_output;	/* -p/--pretty (implies --json) */
extern const char *bin_name;
extern const char *cli_obj;	/* the object of the verb running ("vm") */

/*
 * A verb's options, declared once (the model: xdp-tools' option tables):
 * parsing (--opt=value and --opt value), the verb's usage and its --help
 * are all made from the table. Each value lands in the verb's settings
 * struct at @off.
 */
enum cli_opt_kind {
	CLI_OPT_FLAG,	/* bool */
	CLI_OPT_STR,	/* const char * (into argv) */
	CLI_OPT_INT,	/* int, @lo..@hi */
	CLI_OPT_BYTES,	/* uint64_t, BYTES[K|M|G] */
	CLI_OPT_ENUM,	/* int: the index of the value in @words */
	CLI_OPT_U64,	/* uint64_t, decimal or 0x hex */
	CLI_OPT_FN,	/* @fn parses the value (repeated options, checks of its own) */
	CLI_OPT_TABLE,	/* the options of table @sub, their struct at @off (shared sets) */
};

struct cli_opt {
	const char *name;	/* "mem" for --mem */
	char short_name;	/* 'o' for -o; 0: none */
	enum cli_opt_kind kind;
	size_t off;
	const char *arg;	/* what the value is, for usage ("MIB") */
	const char *help;
	int lo, hi;
	const char *const *words;
	const char *group;	/* options of one group exclude each other */
	bool required;		/* the verb cannot go without it */
	bool repeat;		/* may be given more than once ("[--frames F]...") */
	/* CLI_OPT_FN: 0, or a usage status after its own p_usage(); @at is
	 * the field at @off. */
	int (*fn)(const char *verb, const struct cli_opt *o, const char *v, void *at);
	const struct cli_opt *sub;
};

#define CLI_FLAG(n, st, f, h) { .name = n, .kind = CLI_OPT_FLAG, .off = offsetof(st, f), .help = h }
#define CLI_STR(n, st, f, a, h) { .name = n, .kind = CLI_OPT_STR, .off = offsetof(st, f), .arg = a, .help = h }
#define CLI_INT(n, st, f, a, l, u, h) { .name = n, .kind = CLI_OPT_INT, .off = offsetof(st, f), .arg = a, \
					.lo = l, .hi = u, .help = h }
#define CLI_BYTES(n, st, f, a, h) { .name = n, .kind = CLI_OPT_BYTES, .off = offsetof(st, f), .arg = a, .help = h }
#define CLI_U64(n, st, f, a, h) { .name = n, .kind = CLI_OPT_U64, .off = offsetof(st, f), .arg = a, .help = h }
#define CLI_FN(n, st, f, a, p, h) { .name = n, .kind = CLI_OPT_FN, .off = offsetof(st, f), .arg = a, .fn = p, .help = h }
#define CLI_TABLE(t, st, f) { .name = "", .kind = CLI_OPT_TABLE, .off = offsetof(st, f), .sub = t }
/* The same, shown in synopses as @a ("[MQTT OPTIONS]"); --help lists them. */
#define CLI_TABLE_AS(t, st, f, a) { .name = "", .kind = CLI_OPT_TABLE, .off = offsetof(st, f), .sub = t, .arg = a }
#define CLI_ENUM(n, st, f, w, h) { .name = n, .kind = CLI_OPT_ENUM, .off = offsetof(st, f), .words = w, .help = h }

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the verb itself */
	/* Without @opts: one line, "ARGS: what it does". With @opts: what it
	 * does; the synopsis is @args and the table. */
	const char *help;
	const struct cli_opt *opts;		/* { 0 }-terminated */
	const char *args;			/* the positional arguments: "NAME..." */
	bool rest;				/* "-- ARGS..." passed on (cli_parse's @rest) */
	const struct cmd *verbs;		/* an object: its verbs */
};

/* A table entry without options. */
#define CLI_CMD(n, f, h) { .name = n, .fn = f, .help = h }

/*
 * Parse argv (argv[0] is the verb) against the option table @opts into
 * @cfg. The positional arguments are moved to argv[1..N] and N returned.
 * After "--", what follows is left in *@rest (refused when @rest is NULL;
 * *@rest NULL when there is no "--"). A bad option is one usage line and a
 * negative return (the verb returns EXIT_USAGE).
 */
int cli_parse(const struct cli_opt *opts, int argc, char **argv, void *cfg, char ***rest);
/* What an option's value is, for usage ("MIB", "none|cache|all"); NULL
 * for a flag. */
const char *cli_opt_arg(const struct cli_opt *o);
/* A table's options with its shared sets spliced in (at most @max). */
int cli_opts_list(const struct cli_opt *opts, const struct cli_opt **out, int max);
/* The verb's synopsis from its table: "NAME [--mem MIB] ...". */
void cli_synopsis(const struct cmd *c, char *buf, size_t len);
/* `stasis OBJ VERB --help` of a verb with a table. */
void cli_help(const struct cmd *c, const char *obj);
/* The entry of @cmds named @name (for a verb to find its own table). */
const struct cmd *cli_cmd(const struct cmd *cmds, const char *name);

/*
 * Run the entry of @cmds whose name is @argv[0] or a unique prefix of it (an
 * exact name wins). @obj is the object ("net", ...) or NULL at the top level;
 * under an object, "help" prints the verb table.
 */
int cmd_select(const struct cmd *cmds, const char *obj, int argc, char **argv);

/* The one error path: "stasis: MSG" on stderr (and {"error":MSG} with -j). */
int p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* returns EXIT_FAIL */
int p_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* returns EXIT_USAGE */
/* Progress and notes for humans: stderr, never mixed into JSON on stdout. */
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one JSON writer (jansson underneath). Each call steals @v. */
void jw_value(json_t *v);		/* one whole document */
void jw_array_begin(void);		/* streaming: '[' ... ']' */
void jw_array_item(json_t *v);
void jw_array_end(void);

/* Decimal (or 0x hex) unsigned number, the whole string. 0 or -EINVAL. */
int cli_u64(const char *s, uint64_t *out);
/* A positive count of bytes with an optional K, M or G (powers of 1024). */
int cli_bytes(const char *s, uint64_t *out);

/* From the tables (cli/gen.c): stasis(8), or stasis-OBJ(8); the bash
 * completion script. */
int cli_gen_man(const char *obj);
int cli_gen_completion(void);

/* Objects (cli/main.c's table; the agent has options, no verbs). */
extern const struct cmd cli_objects[];
extern const struct cli_opt cli_agent_opts[];
extern const struct cmd cli_net_verbs[], cli_vm_verbs[], cli_sp_verbs[], cli_coord_verbs[],
	cli_fuzz_verbs[];
int do_net(int argc, char **argv);
int do_vm(int argc, char **argv);
int do_sp(int argc, char **argv);
int do_agent(int argc, char **argv);
int do_coord(int argc, char **argv);
int do_fuzz(int argc, char **argv);

#endif
