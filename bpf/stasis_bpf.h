/* SPDX-License-Identifier: MIT */
/*
 * libstasis_bpf: the compiled BPF object, embedded in the binary through its
 * libbpf skeleton, behind an opaque handle. The map layout is bpf/stasis_maps.h.
 */
#ifndef STASIS_BPF_H
#define STASIS_BPF_H

#include <stdint.h>
#include "bpf/stasis_maps.h"

struct stasis_prog;

/* Open and load the embedded object into the kernel. Negative errno. */
int stasis_prog__load(struct stasis_prog **out);
void stasis_prog__destroy(struct stasis_prog *p);

/* Names of the programs and maps in the object, for probing and listing. */
int stasis_prog__prog_count(const struct stasis_prog *p);
const char *stasis_prog__prog_name(const struct stasis_prog *p, int i);
int stasis_prog__map_count(const struct stasis_prog *p);
const char *stasis_prog__map_name(const struct stasis_prog *p, int i);

/* Sum of the per-CPU counters, indexed by enum stasis_counter. */
int stasis_prog__counters(const struct stasis_prog *p, uint64_t out[STASIS_CNT_MAX]);

#endif
