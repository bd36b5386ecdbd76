// SPDX-License-Identifier: MIT
/* stasis vm ...: QEMU VMs over QMP. */
#include "cli/cli.h"

static const struct cmd vm_cmds[] = {
	{ "start",    not_implemented, "NAME ..." },
	{ "adopt",    not_implemented, "NAME --qmp SOCKET [--argv-file FILE]" },
	{ "list",     not_implemented, "" },
	{ "stop",     not_implemented, "[NAME...|--all]" },
	{ "cont",     not_implemented, "[NAME...|--all]" },
	{ "quit",     not_implemented, "[NAME...|--all]" },
	{ "save",     not_implemented, "SNAPDIR [NAME...|--all]" },
	{ "restore",  not_implemented, "SNAPDIR [NAME...] [--paused]" },
	{ "snapshot", not_implemented, "--live SNAPDIR" },
	{ "fork",     not_implemented, "SNAPDIR --copies N" },
	{ "dump-mem", not_implemented, "SNAPDIR NAME -o FILE" },
	{ 0 },
};

int do_vm(int argc, char **argv)
{
	return cmd_select(vm_cmds, "vm", argc - 1, argv + 1);
}
