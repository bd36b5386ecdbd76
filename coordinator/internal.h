/* SPDX-License-Identifier: MIT */
/* Internal to coordinator/. */
#ifndef COORD_INTERNAL_H
#define COORD_INTERNAL_H

#include <stddef.h>
#include "coordinator/coord.h"

/* This thread's message (coord__errmsg), emptied: the @err an API call
 * writes its one line into (COORD_ERR_MAX bytes). Helpers inside the
 * library still take (err, errlen) and are handed it. */
char *coord_err(void);
size_t coord_err_len(void);	/* its size: a long path is cut, not refused */
/* After an API call of this library made from inside it: its message into
 * the caller's own buffer @err (nothing when @err is the thread's). */
int coord_err_keep(int ret, char *err, size_t len);

#endif
