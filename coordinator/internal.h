/* SPDX-License-Identifier: MIT */
/* Internal to coordinator/. */
#ifndef COORD_INTERNAL_H
#define COORD_INTERNAL_H

#include <stddef.h>
#include "coordinator/coord.h"

/*
 * The error channel inside the library. An API function is a thin wrapper:
 * its body (NAME_impl) writes into a buffer of its own, handed down to the
 * helpers as (err, errlen) as before, and the wrapper publishes it once, at
 * return, with coord_err_set(). So nested API calls, which publish their
 * own, never overwrite a message half-way through a long operation (the
 * agent's run, a fuzz campaign).
 */
/* After @ret < 0: @msg (or what the errno says) as coord__errmsg(). @ret. */
int coord_err_set(int ret, const char *msg);
/* After an API call made from inside the library: its message into the
 * caller's own @err. @ret. */
int coord_err_keep(int ret, char *err, size_t len);

#endif
