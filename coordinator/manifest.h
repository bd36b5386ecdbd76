/* SPDX-License-Identifier: MIT */
/*
 * A host's part of a snapshot, SNAPSHOTS/snap-EPOCH/HOST/manifest.json: one
 * reader and one writer (docs/coordination.md lists the fields). The typed
 * fields are what stasis decides on; @j keeps the whole document, fields
 * stasis only reports (vms, times) included, and is what is written.
 */
#ifndef COORD_MANIFEST_H
#define COORD_MANIFEST_H

#include <jansson.h>
#include <stdint.h>
#include "coordinator/coord.h"

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

enum coord_part_state { COORD_PART_SAVED, COORD_PART_COMPLETE, COORD_PART_FAILED };

struct coord_manifest {
	char experiment[COORD_NAME_MAX], host[COORD_NAME_MAX];
	char request[COORD_NAME_MAX];	/* the snapshot request that made the part, or "" */
	uint64_t epoch;
	enum coord_part_state state;
	json_t *trigger;		/* borrowed from @j; JSON null when none */
	json_t *j;			/* owned */
};

/* 0; -ENOENT when @dir has no manifest; -EBADMSG (with a line in @err) for
 * one that is not JSON or lacks a typed field. coord_manifest__free after. */
int coord_manifest__load(const char *dir, struct coord_manifest *m);
/* The typed fields into @m->j, then @m->j written durably: a temporary
 * file, fsync, rename over the old, fsync of the folder (a part marked
 * complete stays so across a crash). 0 or negative errno. */
int coord_manifest__store(const char *dir, struct coord_manifest *m);
void coord_manifest__free(struct coord_manifest *m);
/* "saved", "complete", "failed". */
const char *coord_part_state__name(enum coord_part_state s);
/* The state of the part in @dir as a word: a state's name, "none" (no
 * manifest) or "unreadable". */
void coord_manifest__state(const char *dir, char *buf, size_t len);

#pragma GCC visibility pop

#endif
