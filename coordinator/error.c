// SPDX-License-Identifier: MIT
/* The library's one error channel: a line for this thread's last failure. */
#include <stdio.h>
#include <string.h>
#include "coordinator/internal.h"

static __thread char errmsg[COORD_ERR_MAX];

const char *coord__errmsg(void) { return errmsg; }

int coord_err_set(int ret, const char *msg)
{
	if (ret < 0)
		snprintf(errmsg, sizeof(errmsg), "%s", msg && msg[0] ? msg : strerror(-ret));
	return ret;
}

int coord_err_keep(int ret, char *err, size_t len)
{
	if (ret < 0 && err && len)
		snprintf(err, len, "%s", errmsg);
	return ret;
}
