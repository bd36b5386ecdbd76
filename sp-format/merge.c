// SPDX-License-Identifier: MIT
/* sp__merge: a k-way merge by capture time. Each input's reader keeps its own
 * current frame, so no frame is copied until it is written. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sp-format/internal.h"

int sp__merge(const char *const *in, size_t n, const char *out)
{
	char *err = sp_err();
	struct sp_reader **r = calloc(n ? n : 1, sizeof(*r));
	struct sp_frame *cur = calloc(n ? n : 1, sizeof(*cur));
	uint32_t *base = calloc(n ? n : 1, sizeof(*base));
	int *live = calloc(n ? n : 1, sizeof(*live));
	struct sp_iface *ifs = NULL;
	struct sp_writer *w = NULL;
	struct sp_header h;
	uint32_t ni = 0;
	int ret = 0;

	if (!r || !cur || !base || !live) {
		ret = -ENOMEM;
		goto out;
	}
	if (n == 0) {
		snprintf(err, SP_ERR_MAX, "nothing to merge");
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((ret = sp_reader__open(&r[i], in[i], 0)))
			goto out;
		base[i] = ni;
		ni += sp_reader__iface_count(r[i]);
		if (ni > SP_MAX_IFACES) {
			snprintf(err, SP_ERR_MAX, "more than %u interfaces in all", SP_MAX_IFACES);
			ret = -E2BIG;
			goto out;
		}
	}
	ifs = calloc(ni ? ni : 1, sizeof(*ifs));
	if (!ifs) {
		ret = -ENOMEM;
		goto out;
	}
	h = *sp_reader__header(r[0]);
	h.host[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const char *host = sp_reader__header(r[i])->host;

		for (uint32_t k = 0; k < sp_reader__iface_count(r[i]); k++) {
			ifs[base[i] + k] = *sp_reader__iface(r[i], k);
			if (!ifs[base[i] + k].host[0])
				snprintf(ifs[base[i] + k].host, sizeof(ifs->host), "%s", host);
		}
		/* "a,b,c": the hosts merged, as far as the field holds them. */
		if (strlen(h.host) + strlen(host) + 2 < sizeof(h.host)) {
			if (i)
				strcat(h.host, ",");
			strcat(h.host, host);
		}
	}
	if ((ret = sp_writer__open(&w, out, &h, ifs, ni))) {
		snprintf(err, SP_ERR_MAX, "%s: %s", out, strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		live[i] = sp_reader__next(r[i], &cur[i]);
		if (live[i] < 0) {
			snprintf(err, SP_ERR_MAX, "%s", sp_reader__damage(r[i]));
			ret = live[i];
			goto out;
		}
	}
	for (;;) {
		size_t best = n;

		for (size_t i = 0; i < n; i++)
			if (live[i] == 1 && (best == n || cur[i].ts_ns < cur[best].ts_ns))
				best = i;
		if (best == n)
			break;
		struct sp_frame f = cur[best];

		f.iface += base[best];
		if ((ret = sp_writer__frame(w, &f)))
			goto out;
		live[best] = sp_reader__next(r[best], &cur[best]);
		if (live[best] < 0) {
			snprintf(err, SP_ERR_MAX, "%s", sp_reader__damage(r[best]));
			ret = live[best];
			goto out;
		}
	}
	for (size_t i = 0; !ret && i < n; i++) {
		json_t *j = json_pack("{s:s,s:s}", "merged", in[i], "host",
				      sp_reader__header(r[i])->host);
		char *note = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		ret = note ? sp_writer__note(w, note) : -ENOMEM;
		free(note);
		json_decref(j);
	}
	if (!ret) {
		ret = sp_writer__close(w);
		w = NULL;
		if (ret)
			snprintf(err, SP_ERR_MAX, "%s: %s", out, strerror(-ret));
	}
out:
	sp_writer__discard(w);
	for (size_t i = 0; r && i < n; i++)
		sp_reader__close(r[i]);
	free(r);
	free(cur);
	free(base);
	free(live);
	free(ifs);
	return ret;
}
