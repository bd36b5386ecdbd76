// SPDX-License-Identifier: MIT
/* The library's one error channel: a line for this thread's last failure. */
#include <stdio.h>
#include <string.h>
#include "coordinator/internal.h"

static __thread char errmsg[COORD_ERR_MAX];

const char *coord__errmsg(void) { return errmsg; }

char *coord_err(void)
{
	errmsg[0] = '\0';
	return errmsg;
}

size_t coord_err_len(void) { return sizeof(errmsg); }

int coord_err_keep(int ret, char *err, size_t len)
{
	if (ret < 0 && err && len && err != errmsg)
		snprintf(err, len, "%s", errmsg);
	return ret;
}
