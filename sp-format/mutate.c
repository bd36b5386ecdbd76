// SPDX-License-Identifier: MIT
/*
 * sp__mutate: fuzz cases of one frame. Each case draws from its own PRNG
 * stream, seeded by (seed, case index), so case i is the same whatever the
 * number of cases asked for, and a run can be resumed or extended.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sp-format/copy.h"
#include "sp-format/sp.h"
#include "util/opts.h"

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)	/* 0..n-1, n > 0 */
{
	return (uint32_t)(splitmix(s) % n);
}

static const char *strategy_name[] = { "random-bytes", "bit-flips", "boundary-values", "length" };

struct case_ctx {
	uint64_t frame;
	const uint8_t *orig;
	uint32_t orig_len;
	uint8_t *buf;
	uint32_t len;
	bool fix;
	bool found;
};

/* Mutate orig into c->buf within [from, to]; returns the JSON description. */
static json_t *mutate_one(struct case_ctx *c, uint32_t from, uint32_t to, uint64_t seed,
			  uint32_t idx)
{
	uint64_t s = seed ^ (0xd1b54a32d192ed03ull * (idx + 1));
	json_t *changes = json_array();
	uint32_t strat, span = to - from + 1, at = 0;
	char hex[3];

	for (int attempt = 0; attempt < 16; attempt++) {
		memcpy(c->buf, c->orig, c->orig_len);
		c->len = c->orig_len;
		json_array_clear(changes);
		strat = below(&s, 4);
		if (strat == 0 || strat == 2) {
			static const uint8_t bounds[] = { 0x00, 0x7f, 0x80, 0xff };
			uint32_t n = 1 + below(&s, span < 4 ? span : 4);

			for (uint32_t k = 0; k < n; k++) {
				uint32_t off = from + below(&s, span);
				uint8_t v = strat == 0 ? (uint8_t)splitmix(&s) : bounds[below(&s, 4)];

				c->buf[off] = v;
			}
		} else if (strat == 1) {
			uint32_t n = 1 + below(&s, 4);

			for (uint32_t k = 0; k < n; k++) {
				uint32_t bit = below(&s, span * 8);

				c->buf[from + bit / 8] ^= (uint8_t)(1u << (bit % 8));
			}
		} else {
			at = from + below(&s, span + 1);	/* may be just past the range */

			if (below(&s, 2) == 0 && at < c->orig_len) {
				/* Cut the frame at @at (at least one byte stays). */
				c->len = at ? at : 1;
			} else {
				uint32_t add = 1 + below(&s, 16);

				if (c->orig_len + add > SP_MAX_FRAME)
					continue;
				memmove(c->buf + at + add, c->buf + at, c->orig_len - at);
				for (uint32_t k = 0; k < add; k++)
					c->buf[at + k] = (uint8_t)splitmix(&s);
				c->len = c->orig_len + add;
			}
		}
		/* Describe the byte changes (for the same length) or the new length. */
		if (c->len == c->orig_len) {
			for (uint32_t off = from; off <= to; off++) {
				if (c->buf[off] == c->orig[off])
					continue;
				json_t *ch = json_pack("{s:i}", "offset", off);

				sprintf(hex, "%02x", c->orig[off]);
				json_object_set_new(ch, "old", json_string(hex));
				sprintf(hex, "%02x", c->buf[off]);
				json_object_set_new(ch, "new", json_string(hex));
				json_array_append_new(changes, ch);
			}
			if (!json_array_size(changes))
				continue;	/* drew the original back: draw again */
		}
		break;
	}
	json_t *d = json_pack("{s:i,s:I,s:I,s:s,s:o,s:{s:i,s:i}}", "case", idx,
			      "seed", (json_int_t)seed, "frame", (json_int_t)c->frame,
			      "strategy", strategy_name[strat], "changes", changes,
			      "length", "old", c->orig_len, "new", c->len);
	if (c->len != c->orig_len)	/* where the frame was cut or grew */
		json_object_set_new(json_object_get(d, "length"), "at", json_integer(at));
	return d;
}

static int put_case(struct sp_writer *w, uint64_t idx, const struct sp_frame *f, void *ctx,
		    char *err)
{
	struct case_ctx *c = ctx;
	struct sp_frame nf;

	(void)err;
	if (!f)
		return 0;
	if (idx != c->frame)
		return sp_writer__frame(w, f);
	nf = *f;
	nf.data = c->buf;
	nf.cap_len = c->len;
	nf.orig_len = c->len;
	nf.flags |= SP_F_EDITED;
	if (c->fix)
		sp__fix_checksums(c->buf, c->len);	/* best effort on a mutated frame */
	return sp_writer__frame(w, &nf);
}

int sp__mutate(const char *in, const char *dir, const struct sp_mutate_opts *opts)
{
	char *err = sp_err();
	struct sp_mutate_opts o;
	struct case_ctx c = { 0 };
	struct sp_reader *r;
	struct sp_frame f;
	uint8_t *orig = NULL;
	char path[4096];
	FILE *jl = NULL;
	uint32_t to;
	int ret;

	if (UTIL_OPTS_LOAD(o, opts)) {
		snprintf(err, SP_ERR_MAX, "sp_mutate_opts: bad sz %zu", opts->sz);
		return -EINVAL;
	}
	c.frame = o.frame;
	c.fix = o.fix_checksums;
	if (!o.cases) {
		snprintf(err, SP_ERR_MAX, "no cases asked for");
		return -EINVAL;
	}
	/* Find the frame first: its length bounds the range. */
	if ((ret = sp_reader__open(&r, in, 0)))
		return ret;
	for (uint64_t i = 0; (ret = sp_reader__next(r, &f)) == 1; i++) {
		if (i != o.frame)
			continue;
		orig = malloc(f.cap_len ? f.cap_len : 1);
		if (!orig) {
			ret = -ENOMEM;
			break;
		}
		memcpy(orig, f.data, f.cap_len);
		c.orig_len = f.cap_len;
		c.found = true;
	}
	if (ret < 0)
		snprintf(err, SP_ERR_MAX, "%s", sp_reader__damage(r) ? sp_reader__damage(r) : strerror(-ret));
	sp_reader__close(r);
	if (ret < 0)
		goto out;
	if (!c.found || !c.orig_len) {
		snprintf(err, SP_ERR_MAX, "%s: no frame %llu to mutate", in, (unsigned long long)o.frame);
		ret = -ERANGE;
		goto out;
	}
	to = o.to >= c.orig_len ? c.orig_len - 1 : o.to;
	if (o.from > to) {
		snprintf(err, SP_ERR_MAX, "range %u:%u is outside frame %llu (%u bytes)", o.from,
			 o.to, (unsigned long long)o.frame, c.orig_len);
		ret = -ERANGE;
		goto out;
	}
	c.orig = orig;
	c.buf = malloc(SP_MAX_FRAME);
	if (!c.buf) {
		ret = -ENOMEM;
		goto out;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, SP_ERR_MAX, "%.400s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/cases.jsonl", dir);
	jl = fopen(path, "w");
	if (!jl) {
		ret = -errno;
		snprintf(err, SP_ERR_MAX, "%.400s: %s", path, strerror(errno));
		goto out;
	}
	for (uint32_t i = 0; i < o.cases; i++) {
		json_t *d = mutate_one(&c, o.from, to, o.seed, i);
		char *text = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
		const char *notes[1] = { text };

		json_decref(d);
		if (!text) {
			ret = -ENOMEM;
			break;
		}
		snprintf(path, sizeof(path), "%s/case-%06u.sp", dir, i);
		err[0] = 0;
		ret = sp__copy(in, path, put_case, &c, notes, 1, err);
		if (!ret && fprintf(jl, "%s\n", text) < 0)
			ret = -EIO;
		free(text);
		if (ret)
			break;
		if (o.progress)
			o.progress(i + 1, o.cases, o.progress_ctx);
	}
	if (fclose(jl) && !ret) {
		ret = -EIO;
		snprintf(err, SP_ERR_MAX, "%.400s/cases.jsonl: write failed", dir);
	}
out:
	free(orig);
	free(c.buf);
	return ret;
}
