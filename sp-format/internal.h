/* SPDX-License-Identifier: MIT */
/* Internal to sp-format/. */
#ifndef SP_INTERNAL_H
#define SP_INTERNAL_H

#include "sp-format/sp.h"

/* This thread's message (sp__errmsg), emptied: the @err an API call writes
 * its one line into (SP_ERR_MAX bytes; internal helpers pass it on). */
char *sp_err(void);

#endif
