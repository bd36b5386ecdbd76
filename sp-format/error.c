// SPDX-License-Identifier: MIT
/* The library's one error channel: a line for this thread's last failure. */
#include "sp-format/internal.h"

static __thread char errmsg[SP_ERR_MAX];

const char *sp__errmsg(void) { return errmsg; }

char *sp_err(void)
{
	errmsg[0] = '\0';
	return errmsg;
}
