// SPDX-License-Identifier: MIT
/* The library's one error channel: a line for this thread's last failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "vmctl/internal.h"

static __thread char errmsg[1024];

const char *vmctl__errmsg(void) { return errmsg; }

int vm_seterr(int ret, const char *fmt, ...)
{
	char buf[sizeof(errmsg)];
	va_list ap;

	/* Through a copy: callers wrap the message of what failed inside
	 * ("VM %s: %s", name, vmctl__errmsg()). */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(errmsg, buf, sizeof(buf));
	return ret;
}
