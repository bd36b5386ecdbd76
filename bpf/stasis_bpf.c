// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
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
	return stasis_prog__load_opts(out, 0);
}

int stasis_prog__load_opts(struct stasis_prog **out, uint32_t ring_bytes)
{
	struct stasis_prog *p = calloc(1, sizeof(*p));
	int err, ncpu = libbpf_num_possible_cpus();

	if (!p)
		return -ENOMEM;
	if (ncpu < 1) {
		free(p);
		return ncpu < 0 ? ncpu : -EINVAL;
	}
	p->skel = stasis_skel__open();
	if (!p->skel) {
		err = -errno;
		free(p);
		return err ? err : -EINVAL;
	}
	/* One scratch slot per CPU (the programs index it by CPU id). */
	bpf_map__set_max_entries(p->skel->maps.scratch, (uint32_t)ncpu);
	if (ring_bytes)
		bpf_map__set_max_entries(p->skel->maps.ring, ring_bytes);
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

int stasis_prog__pin(struct stasis_prog *p, const char *dir)
{
	char path[512];
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, p->skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		if ((err = bpf_map__pin(m, path)))
			return err;
	}
	snprintf(path, sizeof(path), "%s/tc", dir);
	return bpf_program__pin(p->skel->progs.stasis_tc_egress, path);
}

const void *stasis_prog__elf(size_t *size)
{
	return stasis_skel__elf_bytes(size);
}
