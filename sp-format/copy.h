/* SPDX-License-Identifier: MIT */
/* Internal to sp-format/: the one streaming copy that edit, mutate and the
 * like are built on. */
#ifndef SP_COPY_H
#define SP_COPY_H

#include "sp-format/internal.h"

/*
 * Called for frame @idx (0-based, in file order) with @f, and once more at
 * the end with f == NULL and idx == the frame count. It writes what it wants
 * through @w (nothing, @f, changed copies, new frames). Negative errno stops
 * the copy; the callback fills @err first.
 */
typedef int (*sp_copy_fn)(struct sp_writer *w, uint64_t idx, const struct sp_frame *f,
			  void *ctx, char *err);

/*
 * Copy @in (which must be complete and valid) to @out with the same header
 * and interfaces, the notes @notes first, then the frames through @fn, then
 * the input's own notes. @out appears only when all went well.
 */
int sp__copy(const char *in, const char *out, sp_copy_fn fn, void *ctx,
	     const char *const *notes, size_t n_notes, char *err);

#endif
