/* SPDX-License-Identifier: MIT */
/*
 * libstasis_bpf: the compiled BPF object, embedded in the binary through its
 * libbpf skeleton, behind an opaque handle. The map layout is bpf/stasis_maps.h.
 */
#ifndef STASIS_BPF_H
#define STASIS_BPF_H

#include <stddef.h>
#include <stdint.h>
#include "bpf/stasis_maps.h"

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

struct stasis_prog;

/* Errors: every function returns 0 (or a count) or a negative errno, and
 * leaves one line saying why in stasis_bpf__errmsg() (this thread's). */
const char *stasis_bpf__errmsg(void);

/* Open and load the embedded object into the kernel. Negative errno, and
 * stasis_bpf__errmsg() says why: when the kernel's verifier
 * refused a program, its name and the verifier's last complaint (with
 * STASIS_DEBUG set in the environment the whole log goes to stderr).
 * @ring_bytes sizes the frame ring (0: the default, 64 MiB; a power of 2). */
int stasis_prog__load(struct stasis_prog **out, uint32_t ring_bytes);
/* Pin every map as DIR/<map name> and the TC program as DIR/tc. */
int stasis_prog__pin(struct stasis_prog *p, const char *dir);
/* The embedded ELF object, for loaders (libxdp) that open it themselves. */
const void *stasis_prog__elf(size_t *size);
void stasis_prog__destroy(struct stasis_prog *p);

struct bpf_object;
/* Load an opened object the same way (libxdp's copy, test objects). */
int stasis_bpf__load_object(struct bpf_object *obj);
/* The one line for program @prog refused with verifier log @log: "the
 * kernel's verifier refused program PROG: COMPLAINT (at INSN); ..." */
void stasis_bpf__verifier_summary(const char *prog, const char *log, char *out, size_t len);

/* Names of the programs and maps in the object, for probing and listing. */
int stasis_prog__prog_count(const struct stasis_prog *p);
const char *stasis_prog__prog_name(const struct stasis_prog *p, int i);
int stasis_prog__map_count(const struct stasis_prog *p);
const char *stasis_prog__map_name(const struct stasis_prog *p, int i);

/* Sum of the per-CPU counters, indexed by enum stasis_counter. */
int stasis_prog__counters(const struct stasis_prog *p, uint64_t out[STASIS_CNT_MAX]);

#pragma GCC visibility pop

#endif
