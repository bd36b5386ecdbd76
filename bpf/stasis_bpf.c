// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "bpf/stasis_bpf.h"
#include "bpf/stasis.skel.h"

struct stasis_prog {
	struct stasis_skel *skel;
};

int stasis_prog__load(struct stasis_prog **out)
{
	struct stasis_prog *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	p->skel = stasis_skel__open();
	if (!p->skel) {
		err = -errno;
		free(p);
		return err ? err : -EINVAL;
	}
	err = stasis_skel__load(p->skel);
	if (err) {
		stasis_skel__destroy(p->skel);
		free(p);
		return err < 0 ? err : -err;
	}
	*out = p;
	return 0;
}

void stasis_prog__destroy(struct stasis_prog *p)
{
	if (!p)
		return;
	stasis_skel__destroy(p->skel);
	free(p);
}

int stasis_prog__prog_count(const struct stasis_prog *p)
{
	return p->skel->skeleton->prog_cnt;
}

const char *stasis_prog__prog_name(const struct stasis_prog *p, int i)
{
	if (i < 0 || i >= p->skel->skeleton->prog_cnt)
		return NULL;
	return p->skel->skeleton->progs[i].name;
}

int stasis_prog__map_count(const struct stasis_prog *p)
{
	return p->skel->skeleton->map_cnt;
}

const char *stasis_prog__map_name(const struct stasis_prog *p, int i)
{
	if (i < 0 || i >= p->skel->skeleton->map_cnt)
		return NULL;
	return p->skel->skeleton->maps[i].name;
}

int stasis_prog__counters(const struct stasis_prog *p, uint64_t out[STASIS_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(p->skel->maps.counters);

	if (ncpu < 0)
		return ncpu;
	uint64_t *vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < STASIS_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;
			free(vals);
			return err;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}
