// SPDX-License-Identifier: MIT
/* A host's part of an experiment: load, resume (coordinator/part.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "coordinator/internal.h"
#include "coordinator/part.h"
#include "util/opts.h"

struct coord_part {
	struct vm_group *g;
};

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int coord_part__load(struct coord_part **out, const struct coord_part_opts *opts)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	struct coord_part_opts ob;
	const struct coord_part_opts *o = &ob;
	struct coord_part *p;
	char **names, **own = NULL;
	int n, ret;

	*out = NULL;
	if (UTIL_OPTS_LOAD(ob, opts))
		return snprintf(err, errlen, "coord_part_opts: bad sz %zu", opts ? opts->sz : 0), -EINVAL;
	names = o->vms;
	n = o->n_vms;
	if (o->vdir && !names) {
		if ((ret = snap__open(o->vdir, &own, &n)))
			return snprintf(err, errlen, "%s", vmctl__errmsg()), ret;
		names = own;
	}
	if (o->vdir && n) {
		struct restore_opts ro = { .sz = sizeof(ro), .paused = true, .prefault = o->prefault };

		if ((ret = snap__restore_all(o->vdir, names, n, &ro))) {
			snprintf(err, errlen, "restoring the VMs: %s", vmctl__errmsg());
			free_names(own, own ? n : 0);
			return ret;
		}
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		free_names(own, own ? n : 0);
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	}
	ret = vm_group__open(names, n, 5000, &p->g);
	free_names(own, own ? n : 0);
	if (ret) {
		snprintf(err, errlen, "connecting to the VMs: %s", vmctl__errmsg());
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int coord_part__resume(struct coord_part *p, struct loader *l, uint64_t epoch)
{
	char *err = coord_err();
	size_t errlen = coord_err_len();
	int ret;

	/* Held before the first VM runs: a frame it sends must wait behind
	 * the held ones, never overtake them. */
	if (l && (ret = loader__set_state(l, STASIS_HOLD, epoch)))
		return snprintf(err, errlen, "holding the network: %s", strerror(-ret)), ret;
	if (vm_group__cont(p->g)) {
		snprintf(err, errlen, "continuing the VMs: %s", vmctl__errmsg());
		return -EIO;
	}
	return 0;
}

uint64_t coord_part__cont_window_ns(const struct coord_part *p)
{
	return vm_group__window_ns(p->g);
}

uint64_t coord_part__cont_spread_ns(const struct coord_part *p)
{
	return vm_group__spread_ns(p->g);
}

struct vm_group *coord_part__vms(const struct coord_part *p)
{
	return p->g;
}

void coord_part__close(struct coord_part *p)
{
	if (!p)
		return;
	vm_group__close(p->g);
	free(p);
}
