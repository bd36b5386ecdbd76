// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sp-format/copy.h"

int sp__copy(const char *in, const char *out, sp_copy_fn fn, void *ctx,
	     const char *const *notes, size_t n_notes, char *err)
{
	struct sp_reader *r;
	struct sp_writer *w;
	struct sp_frame f;
	uint64_t idx = 0;
	struct sp_iface *ifs;
	uint32_t ni;
	int ret;

	ret = sp_reader__open(&r, in, 0);
	if (ret)
		return ret;
	ni = sp_reader__iface_count(r);
	ifs = calloc(ni ? ni : 1, sizeof(*ifs));
	if (!ifs) {
		sp_reader__close(r);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < ni; i++)
		ifs[i] = *sp_reader__iface(r, i);
	ret = sp_writer__open(&w, out, sp_reader__header(r), ifs, ni);
	free(ifs);
	if (ret) {
		snprintf(err, SP_ERR_MAX, "%s: %s", out, strerror(-ret));
		sp_reader__close(r);
		return ret;
	}
	for (size_t i = 0; !ret && i < n_notes; i++)
		ret = sp_writer__note(w, notes[i]);
	while (!ret && (ret = sp_reader__next(r, &f)) == 1)
		ret = fn(w, idx++, &f, ctx, err);
	if (ret < 0 && sp_reader__damage(r))
		snprintf(err, SP_ERR_MAX, "%s", sp_reader__damage(r));
	if (!ret)
		ret = fn(w, idx, NULL, ctx, err);
	for (uint32_t i = 0; !ret && i < sp_reader__note_count(r); i++)
		ret = sp_writer__note(w, sp_reader__note(r, i));
	if (ret) {
		if (!err[0])
			snprintf(err, SP_ERR_MAX, "%s: %s", out, strerror(-ret));
		sp_writer__discard(w);
	} else {
		ret = sp_writer__close(w);
		if (ret)
			snprintf(err, SP_ERR_MAX, "%s: %s", out, strerror(-ret));
	}
	sp_reader__close(r);
	return ret;
}
