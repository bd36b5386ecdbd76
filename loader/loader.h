/* SPDX-License-Identifier: MIT */
/*
 * libstasis_loader: loads, attaches, pins and drives the BPF side on this host.
 *
 * State is pinned in the bpffs of the host's first mount namespace (reached
 * as /proc/1/root/sys/fs/bpf), in a folder per network namespace
 * (stasis/net-<inode>): every invocation in the same network namespace finds
 * it, also under `ip netns exec` (which gives each invocation a fresh /sys),
 * and two network namespaces never see each other's state.
 */
#ifndef STASIS_LOADER_H
#define STASIS_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf/stasis_maps.h"

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

/* Oldest kernel stasis supports: the oldest one it is tested on (Debian 12's
 * stock 6.1, booted by tests/system/kernel_matrix.sh), not the oldest whose
 * helpers the programs use (ring buffer 5.8, libxdp's freplace dispatcher
 * 5.10, atomics on map values 5.12, bpf_xdp_load_bytes 5.18): what decides
 * whether the object loads is each kernel's verifier, and an untested one
 * may refuse it. A kernel that passes this check must load the object. */
#define LOADER_MIN_KERNEL_MAJOR 6
#define LOADER_MIN_KERNEL_MINOR 1
/* Errors: functions return 0 (or a count) or a negative errno; those that
 * can fail for reasons an errno does not say (attach, detach, open, drain,
 * replay) leave one line in loader__errmsg() (this thread's). */
#define LOADER_ERR_MAX 512
const char *loader__errmsg(void);

/* Parse a release string ("6.1.0-56-cloud-amd64") into major/minor. -EINVAL. */
int loader__parse_release(const char *release, int *major, int *minor);
/* 0 when the running kernel is new enough; -ENOTSUP otherwise, with the
 * running release copied into @release (may be NULL). */
int loader__kernel_check(char *release, size_t len);
/* Make sure a bpffs is mounted at @dir (mounting one if none is). */
int loader__ensure_bpffs(const char *dir);
/* The pin folder of this network namespace (the bpffs mounted if needed). */
int loader__pin_dir(char *buf, size_t len);
/* For a long-lived process (the agent): the bpffs the pins live in is found
 * once, now, and held open, so this process finds its pins for as long as
 * it runs. The bpffs is found through our ancestors' mount namespaces
 * (loader__pin_dir), and those can go: an agent whose starting shell
 * exited found none. Sets STASIS_BPFFS to the open folder. */
int loader__pin_root_keep(void);

/* ---- attach / detach ------------------------------------------------------ */
struct loader_attach_opts {
	size_t sz;			/* sizeof(struct loader_attach_opts) */
	const char *const *taps;	/* TC egress + XDP */
	size_t n_taps;
	const char *const *uplinks;	/* TC egress only */
	size_t n_uplinks;
	uint32_t ring_bytes;		/* first attach only; 0: 64 MiB */
};
/* All devices or none: on failure nothing of this call stays attached. */
int loader__attach(const struct loader_attach_opts *o);
/* Detach @devs (all when n == 0); unpins everything when none is left. */
/* Refused (-EBUSY) while the host is not in PASS or the ring holds frames,
 * unless @force. */
int loader__detach(const char *const *devs, size_t n, bool force);

/* ---- the attached state ----------------------------------------------------- */
struct loader;
/* -ENOENT (with a message) when nothing is attached in this namespace. */
int loader__open(struct loader **out);
void loader__close(struct loader *l);

struct loader_dev {
	uint32_t ifindex;
	uint32_t role;			/* STASIS_ROLE_* */
	bool xdp;
	char name[64];
	uint8_t mac[6];
	struct stasis_dev_stats stats;	/* summed over CPUs */
	uint64_t tx_dropped;		/* the link's counter (libnl) */
};
int loader__host(struct loader *l, struct stasis_host *h);
/* The host state alone, without opening the rest of the pins: for a caller
 * that asks often (the agent's ping). -ENOENT when nothing is attached. */
int loader__peek_host(struct stasis_host *h);
int loader__set_state(struct loader *l, uint32_t state, uint64_t epoch);
/* "pass", "hold", "replay", "replay-last". */
const char *loader__state_name(uint32_t state);
int loader__counters(struct loader *l, uint64_t out[STASIS_CNT_MAX]);
/* Attached devices; *n in: room, out: count. */
int loader__devs(struct loader *l, struct loader_dev *devs, size_t *n);
/* An attached device by name: -ENODEV when there is no such device in this
 * namespace, -ENOENT when it is not attached. */
int loader__dev_index(struct loader *l, const char *name, uint32_t *ifindex);
/* A device's name ("ifindex N" when it is gone). */
void loader__dev_name(uint32_t ifindex, char *name, size_t len);
/* Bytes waiting in the frame ring, and its size. */
int loader__ring_use(struct loader *l, uint64_t *used, uint64_t *size);

/* ---- triggers ------------------------------------------------------------------ */
/* Returns the new trigger's id (>= 0) or negative errno (-ENOSPC: full). */
int loader__trigger_add(struct loader *l, const struct stasis_trigger *t);
int loader__trigger_get(struct loader *l, uint32_t id, struct stasis_trigger *t);
int loader__trigger_del(struct loader *l, uint32_t id);
/* Wait for a trigger event up to @timeout_ms (-1: forever). 1: @ev filled;
 * 0: timeout; negative errno. Events that fired while nobody waited are
 * returned first. */
int loader__wait_event(struct loader *l, int timeout_ms, struct stasis_event *ev);
/* A file descriptor that polls readable when a trigger fires (for a
 * caller's own poll(); then loader__wait_event(l, 0, ...)). */
int loader__event_fd(struct loader *l);

/* ---- drain and replay ------------------------------------------------------------ */
/* Host time of a BPF ktime (CLOCK_MONOTONIC ns) as ns since the Unix epoch. */
uint64_t loader__ktime_to_real(uint64_t ktime_ns);

struct loader_drain_opts {
	size_t sz;			/* sizeof(struct loader_drain_opts) */
	bool follow;			/* keep draining until the host leaves HOLD or *stop */
	volatile int *stop;		/* set by a signal handler */
	void (*progress)(uint64_t frames, uint64_t bytes, void *ctx);
	void *ctx;
	/* What the file's header says: the host (NULL: the machine's
	 * hostname) and the epoch (0: the hold's), so that an agent's net.sp
	 * names its experiment host and snapshot, as its manifest does. */
	const char *host;
	uint64_t epoch;
};
/* Empties the ring (release --force): the frames it let go, counted as
 * discarded, or a negative errno. */
int64_t loader__discard(struct loader *l);
/* The ring into a .sp file (written under a temporary name, renamed at the
 * end). Returns the frame count or negative errno; frames taken from the
 * ring and not stored are counted as drop_drain, frames of devices
 * detached with --force as discarded. */
int64_t loader__drain(struct loader *l, const char *path, const struct loader_drain_opts *o);

struct loader_replay_opts {
	size_t sz;			/* sizeof(struct loader_replay_opts) */
	bool spacing;			/* keep the original gaps */
	uint64_t rate_pps;		/* 0: no pacing beyond the queue checks */
	void (*progress)(uint64_t sent, uint64_t total, void *ctx);
	void *ctx;
};
struct loader_replay_result {
	uint64_t file_frames, ring_frames;	/* sent from the file, from the ring */
	uint64_t tx_dropped;			/* growth of the devices' tx_dropped, less resent */
	uint64_t resent;			/* sends a full device refused, sent again */
};
/* REPLAY; the file's frames on their own devices in file order (a tap's as
 * fast as it takes them, the others' over AF_XDP); then what the ring holds
 * (frames that arrived meanwhile), until the BPF program or this function
 * switches to PASS with nothing pending. The ring's mapping is kept with @l
 * for its next replay (until loader__close). */
int loader__replay(struct loader *l, const char *path, const struct loader_replay_opts *o,
		   struct loader_replay_result *res);

#pragma GCC visibility pop

#endif
