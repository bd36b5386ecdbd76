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

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the verb itself */
	const char *help;			/* one line: "ARGS  what it does" */
};

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

/*
 * getopt_long over a verb's argv (argv[0] is the verb), with errors through
 * p_usage. Returns the option character, -1 at the end, or -2 after a usage
 * error was reported (the verb returns EXIT_USAGE).
 */
struct option;
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Decimal (or 0x hex) unsigned number, the whole string. 0 or -EINVAL. */
int cli_u64(const char *s, uint64_t *out);
/* A positive count of bytes with an optional K, M or G (powers of 1024). */
int cli_bytes(const char *s, uint64_t *out);

/* Objects. */
int do_net(int argc, char **argv);
int do_vm(int argc, char **argv);
int do_sp(int argc, char **argv);
int do_agent(int argc, char **argv);
int do_coord(int argc, char **argv);
int do_fuzz(int argc, char **argv);

#endif
