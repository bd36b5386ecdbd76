// SPDX-License-Identifier: MIT
/* stasis sp ...: .sp packet files. */
#include "cli/cli.h"

static const struct cmd sp_cmds[] = {
	{ "info",        not_implemented, "FILE" },
	{ "cat",         not_implemented, "FILE [--hex] [--iface I] [--seq A:B]" },
	{ "to-pcapng",   not_implemented, "FILE -o OUT" },
	{ "from-pcapng", not_implemented, "IN -o FILE" },
	{ "edit",        not_implemented, "FILE -o OUT [--set N:OFF:HEX] [--delete N] [--insert N:HEX] [--fix-checksums]" },
	{ "mutate",      not_implemented, "FILE --frame N --range A:B --cases K --seed S -o DIR" },
	{ "diff",        not_implemented, "A B" },
	{ "merge",       not_implemented, "A B... -o OUT" },
	{ 0 },
};

int do_sp(int argc, char **argv)
{
	return cmd_select(sp_cmds, "sp", argc - 1, argv + 1);
}
