// SPDX-License-Identifier: MIT
/* stasis agent ...: the per-host agent. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

int do_agent(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "help")) {
		printf("Usage: %s agent --broker URL --host NAME --instances DIR --snapshots DIR\n",
		       bin_name);
		return EXIT_OK;
	}
	return not_implemented(argc, argv);
}
