/* SPDX-License-Identifier: MIT */
/*
 * Internal to coordinator/: a host's part of an experiment, brought back
 * to life in the stages every caller needs, in one place (the agent's
 * restore and resume, the fuzz loop's cases):
 *
 *   load    every VM of the part restored paused, in parallel (a restore),
 *           or the VMs as they stand (a resume); QMP connections opened
 *   resume  the network held first, then every VM continued at once over
 *           those connections (as tight as the stop)
 *   replay  then loader__replay() puts the held frames back; frames the
 *           VMs sent meanwhile wait behind them, in order
 *
 * Callers do between the stages what is theirs (the fuzz loop watches the
 * VMs after the replay over the same connections).
 */
#ifndef COORD_PART_H
#define COORD_PART_H

#include <stddef.h>
#include <stdint.h>
#include "coordinator/coord.h"
#include "loader/loader.h"
#include "vmctl/vmctl.h"

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

struct coord_part_opts {
	size_t sz;		/* sizeof(struct coord_part_opts) */
	const char *vdir;	/* a snapshot's VM folder: restore from it; NULL: resume */
	char **vms;		/* the VMs (NULL with @vdir: every VM saved there) */
	int n_vms;
	int prefault;		/* VM_PREFAULT_*: how a restore maps memory images */
};
struct coord_part;

/* Load: 0 or negative errno with a line in @err. */
int coord_part__load(struct coord_part **out, const struct coord_part_opts *o);
/* Hold @l (may be NULL: a host without a hold) at @epoch, then continue
 * every VM at once. */
int coord_part__resume(struct coord_part *p, struct loader *l, uint64_t epoch);
/* How far apart the VMs' continues were acknowledged (ns). */
uint64_t coord_part__cont_spread_ns(const struct coord_part *p);
/* From the first cont written to the last acknowledged: every VM went on
 * within it. */
uint64_t coord_part__cont_window_ns(const struct coord_part *p);
/* The part's VMs and their open connections (borrowed). */
struct vm_group *coord_part__vms(const struct coord_part *p);
void coord_part__close(struct coord_part *p);

#pragma GCC visibility pop

#endif
