// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include "util/opts.h"

int util_opts_load(void *dst, size_t known, const void *opts, size_t user_sz)
{
	const unsigned char *u = opts;

	memset(dst, 0, known);
	if (opts) {
		if (user_sz < sizeof(size_t))
			return -EINVAL;
		/* Fields of a newer caller's struct: only if they are unset. */
		for (size_t i = known; i < user_sz; i++)
			if (u[i])
				return -EINVAL;
		memcpy(dst, opts, user_sz < known ? user_sz : known);
	}
	*(size_t *)dst = known;
	return 0;
}
