// SPDX-License-Identifier: MIT
/* stasis coord ...: the sender, across hosts. */
#include "cli/cli.h"

static const struct cmd coord_cmds[] = {
	{ "trigger",  not_implemented, "--at TIME | --in DURATION | --packet --offset N --hex BYTES [--mask HEX]" },
	{ "snapshot", not_implemented, "" },
	{ "restore",  not_implemented, "SNAPID [--paused]" },
	{ "status",   not_implemented, "" },
	{ "list",     not_implemented, "" },
	{ 0 },
};

int do_coord(int argc, char **argv)
{
	return cmd_select(coord_cmds, "coord", argc - 1, argv + 1);
}
