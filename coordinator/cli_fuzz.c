// SPDX-License-Identifier: MIT
/* stasis fuzz ...: the packet-triggered fuzz loop. */
#include "cli/cli.h"

static const struct cmd fuzz_cmds[] = {
	{ "run",    not_implemented, "--snapshot DIR --frame SEL --range A:B [--cases K] [--seed S] --watch ... --timeout S -o DIR" },
	{ "report", not_implemented, "RESULTS_DIR" },
	{ "repro",  not_implemented, "RESULTS_DIR CASE" },
	{ 0 },
};

int do_fuzz(int argc, char **argv)
{
	return cmd_select(fuzz_cmds, "fuzz", argc - 1, argv + 1);
}
