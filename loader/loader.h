/* SPDX-License-Identifier: MIT */
/*
 * libstasis_loader: loads, attaches, pins and drives the BPF side on this host.
 */
#ifndef STASIS_LOADER_H
#define STASIS_LOADER_H

#include <stddef.h>

/* Oldest kernel stasis supports: BPF ring buffer (5.8), libxdp's multi-program
 * dispatcher via freplace (5.10), skb->gso_size in __sk_buff (5.7). 5.10 is
 * also the oldest LTS that has all of them. */
#define LOADER_MIN_KERNEL_MAJOR 5
#define LOADER_MIN_KERNEL_MINOR 10

/* Parse a release string ("6.1.0-56-cloud-amd64") into major/minor. -EINVAL. */
int loader__parse_release(const char *release, int *major, int *minor);
/* 0 when the running kernel is new enough; -ENOTSUP otherwise, with the
 * running release copied into @release (may be NULL). */
int loader__kernel_check(char *release, size_t len);
/* Make sure a bpffs is mounted at @dir (mounting one if none is). */
int loader__ensure_bpffs(const char *dir);

#endif
