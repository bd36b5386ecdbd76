/* SPDX-License-Identifier: MIT */
/* Internal to sp-format/. */
#ifndef SP_INTERNAL_H
#define SP_INTERNAL_H

#include "sp-format/sp.h"

/* This thread's message (sp__errmsg), emptied: the @err an API call writes
 * its one line into (SP_ERR_MAX bytes; internal helpers pass it on). */
char *sp_err(void);

/* sp_writer__open() with util_out_open()'s @flags (sp-format/writer.c). */
int sp_writer_open_flags(struct sp_writer **out, const char *path, const struct sp_header *h,
			 const struct sp_iface *ifaces, uint32_t n_ifaces, unsigned int flags);

#endif
