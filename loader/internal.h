/* SPDX-License-Identifier: MIT */
/* Internal to loader/. */
#ifndef LOADER_INTERNAL_H
#define LOADER_INTERNAL_H

#include <net/if.h>
#include "loader/loader.h"
#include "util/opts.h"

#define STASIS_TC_HANDLE	0x57a5
#define STASIS_TC_PRIO		1

struct loader {
	char dir[256];
	int host, counters, devstats, devs, triggers, events, evring, ring;
	struct ring_buffer *evrb;	/* made on the first wait for an event */
	struct replay *replay;		/* made on the first replay, kept for the next */
};

/* This thread's message (loader__errmsg), emptied: the @err an API call
 * writes its one line into (LOADER_ERR_MAX bytes). */
char *loader_err(void);

void replay_free(struct replay *r);

/* Adds @n to a counter that userspace keeps (STASIS_CNT_REPLAYED,
 * _DISCARDED, _DROP_DRAIN: fields of the host entry). */
void counter_add(struct loader *l, uint32_t counter, uint64_t n);

/* The host entry, mapped (one page) for atomic access to its fields;
 * NULL with errno set. */
struct stasis_host *host_map(struct loader *l);
void host_unmap(struct stasis_host *h);

/* libnl lookups in the current network namespace. */
int link_by_name(const char *name, uint32_t *ifindex, uint8_t mac[6]);
struct link_info {
	char name[IF_NAMESIZE];
	uint32_t mtu;			/* 1500 when it cannot be read */
	uint64_t tx_dropped;
	bool tun;			/* a tun/tap device (link kind "tun") */
};
/* What a replay needs of a device, in one query; -ENODEV if none. */
int link_info(uint32_t ifindex, struct link_info *li);
int link_by_index(uint32_t ifindex, char *name, size_t len, uint8_t mac[6], uint64_t *tx_dropped);
/* How many TC filters the device's clsact qdisc holds, ingress and egress. */
int link_tc_filters(uint32_t ifindex);

/* CLOCK_REALTIME less CLOCK_MONOTONIC now, ns: a BPF ktime plus this is wall
 * time (loader__ktime_to_real for one). */
int64_t loader__real_offset(void);

/* How long drain --follow sleeps on the ring at most, ms: the BPF program
 * wakes it only once the ring is filling (STASIS_WAKE_SHIFT), so this is
 * how late a frame held on a quiet link can reach the file. */
#define DRAIN_POLL_MS	20

#endif
