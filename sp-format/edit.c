// SPDX-License-Identifier: MIT
/* sp__edit: set bytes, delete and insert frames, by original frame index. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sp-format/copy.h"
#include "sp-format/sp.h"

struct edit_ctx {
	const struct sp_edit *e;
	size_t n;
	bool fix;
	uint8_t *buf;
	struct sp_frame last;	/* for an insert at the end */
	bool have_last;
};

static int fix(uint8_t *p, uint32_t len, uint64_t idx, char *err)
{
	if (sp__fix_checksums(p, len) < 0) {
		snprintf(err, SP_ERR_MAX, "frame %llu: too short for the IPv4 headers it claims; "
			 "cannot fix its checksums", (unsigned long long)idx);
		return -EINVAL;
	}
	return 0;
}

static int insert_before(struct edit_ctx *c, struct sp_writer *w, uint64_t idx,
			 const struct sp_frame *near, char *err)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct sp_edit *e = &c->e[i];
		struct sp_frame nf;
		int ret;

		if (e->op != SP_EDIT_INSERT || e->frame != idx)
			continue;
		if (!near) {
			snprintf(err, SP_ERR_MAX, "insert at frame %llu: the file has no frame to "
				 "take the interface and direction from", (unsigned long long)idx);
			return -EINVAL;
		}
		memcpy(c->buf, e->bytes, e->len);
		if (c->fix && (ret = fix(c->buf, e->len, idx, err)))
			return ret;
		nf = *near;
		nf.flags = SP_F_INJECTED;
		nf.orig_len = nf.cap_len = e->len;
		nf.data = c->buf;
		if ((ret = sp_writer__frame(w, &nf)))
			return ret;
	}
	return 0;
}

static int edit_frame(struct sp_writer *w, uint64_t idx, const struct sp_frame *f,
		      void *ctx, char *err)
{
	struct edit_ctx *c = ctx;
	struct sp_frame nf;
	bool changed = false;
	int ret;

	if (!f) {	/* the end: inserts after the last frame */
		ret = insert_before(c, w, idx, c->have_last ? &c->last : NULL, err);
		for (size_t i = 0; !ret && i < c->n; i++)
			if (c->e[i].frame > idx || (c->e[i].frame == idx && c->e[i].op != SP_EDIT_INSERT)) {
				snprintf(err, SP_ERR_MAX, "frame %llu is out of range: the file has %llu frames",
					 (unsigned long long)c->e[i].frame, (unsigned long long)idx);
				ret = -ERANGE;
			}
		return ret;
	}
	c->last = *f;
	c->last.data = NULL;
	c->have_last = true;
	if ((ret = insert_before(c, w, idx, f, err)))
		return ret;
	nf = *f;
	memcpy(c->buf, f->data, f->cap_len);
	for (size_t i = 0; i < c->n; i++) {
		const struct sp_edit *e = &c->e[i];

		if (e->frame != idx)
			continue;
		if (e->op == SP_EDIT_DELETE)
			return 0;
		if (e->op != SP_EDIT_SET)
			continue;
		if ((uint64_t)e->offset + e->len > SP_MAX_FRAME) {
			snprintf(err, SP_ERR_MAX, "frame %llu: setting %u bytes at %u goes past the "
				 "frame limit %u", (unsigned long long)idx, e->len, e->offset, SP_MAX_FRAME);
			return -E2BIG;
		}
		if (e->offset > nf.cap_len) {
			snprintf(err, SP_ERR_MAX, "frame %llu: offset %u is past its end (%u bytes)",
				 (unsigned long long)idx, e->offset, nf.cap_len);
			return -ERANGE;
		}
		memcpy(c->buf + e->offset, e->bytes, e->len);
		if (e->offset + e->len > nf.cap_len) {	/* grows the frame */
			nf.orig_len += e->offset + e->len - nf.cap_len;
			nf.cap_len = e->offset + e->len;
		}
		changed = true;
	}
	if (changed) {
		nf.flags |= SP_F_EDITED;
		if (c->fix && (ret = fix(c->buf, nf.cap_len, idx, err)))
			return ret;
	} else if (c->fix && !c->n) {
		/* --fix-checksums alone: every frame. One whose headers do not
		 * fit its bytes (a capture cut by a snap length) is left as it
		 * is, and a frame is marked edited only if its bytes changed. */
		if (sp__fix_checksums(c->buf, nf.cap_len) > 0 && memcmp(c->buf, f->data, nf.cap_len))
			nf.flags |= SP_F_EDITED;
	}
	nf.data = c->buf;
	return sp_writer__frame(w, &nf);
}

int sp__edit(const char *in, const char *out, const struct sp_edit *edits, size_t n,
	    bool fix_checksums)
{
	char *err = sp_err();
	struct edit_ctx c = { .e = edits, .n = n, .fix = fix_checksums };
	char **notes;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (edits[i].op != SP_EDIT_DELETE && (edits[i].len > SP_MAX_FRAME ||
		    (edits[i].op == SP_EDIT_INSERT && !edits[i].len))) {
			snprintf(err, SP_ERR_MAX, "edit %zu: %u bytes (1..%u allowed)", i + 1,
				 edits[i].len, SP_MAX_FRAME);
			return -EINVAL;
		}
	c.buf = malloc(SP_MAX_FRAME);
	notes = calloc(n + 1, sizeof(*notes));
	if (!c.buf || !notes) {
		free(c.buf);
		free(notes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sp_edit *e = &edits[i];
		int r = e->op == SP_EDIT_SET ?
			asprintf(&notes[i], "{\"edit\":\"set\",\"frame\":%llu,\"offset\":%u,\"length\":%u}",
				 (unsigned long long)e->frame, e->offset, e->len) :
			e->op == SP_EDIT_DELETE ?
			asprintf(&notes[i], "{\"edit\":\"delete\",\"frame\":%llu}", (unsigned long long)e->frame) :
			asprintf(&notes[i], "{\"edit\":\"insert\",\"before\":%llu,\"length\":%u}",
				 (unsigned long long)e->frame, e->len);
		if (r < 0)
			notes[i] = NULL;
	}
	if (!n && fix_checksums)
		notes[0] = strdup("{\"edit\":\"fix-checksums\",\"frames\":\"all\"}");
	for (size_t i = 0; i < n + (!n && fix_checksums); i++)
		if (!notes[i]) {
			snprintf(err, SP_ERR_MAX, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
	err[0] = 0;
	ret = sp__copy(in, out, edit_frame, &c, (const char *const *)notes,
		       n + (!n && fix_checksums), err);
out:
	for (size_t i = 0; i < n + 1; i++)
		free(notes[i]);
	free(notes);
	free(c.buf);
	return ret;
}
