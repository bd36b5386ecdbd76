/* SPDX-License-Identifier: MIT */
/* Options structs, the libbpf way: every public struct *_opts starts with
 * `size_t sz`, which the caller sets to sizeof the struct it was built with.
 * A library reads a caller's opts only through UTIL_OPTS_LOAD, so that a
 * caller built against an older header (a smaller sz) gets the defaults for
 * the fields it does not know, a newer caller's fields that this library
 * does not know are refused unless left zero, and sz = 0 (a struct nobody
 * sized) is refused instead of silently dropping every field. */
#ifndef STASIS_UTIL_OPTS_H
#define STASIS_UTIL_OPTS_H

#include <stddef.h>

/* @opts (NULL: every field its default) into @dst, zeroed first, with
 * dst.sz set to what this library knows. 0, or -EINVAL for a bad sz. */
#define UTIL_OPTS_LOAD(dst, opts) ({							\
	const __typeof__(*(opts)) *util_opts_ = (opts);						\
	_Static_assert(offsetof(__typeof__(dst), sz) == 0, "sz must be the first field");	\
	util_opts_load(&(dst), sizeof(dst), util_opts_, util_opts_ ? util_opts_->sz : 0);	\
})
int util_opts_load(void *dst, size_t known, const void *opts, size_t user_sz);

#endif
