/* SPDX-License-Identifier: MIT */
/*
 * sg: the workload programs of the stasis test guest, one static multi-call
 * binary (like busybox): udp-send, udp-recv, tcp-send, tcp-sink, ticker.
 * Built static so the same file runs in the guest's busybox initramfs and on
 * the host inside test namespaces.
 */
#ifndef SG_H
#define SG_H

#include <stdint.h>
#include <netinet/in.h>

/* The numbered datagram: what udp-send writes and udp-recv checks.
 * Big-endian on the wire so that triggers can match it at fixed offsets:
 * in a UDP/IPv4 frame without options, the payload starts at byte 42. */
#define SG_MAGIC 0x53475131u	/* "SGQ1" */
struct sg_dgram {
	uint32_t magic;
	uint32_t sender;
	uint64_t seq;
} __attribute__((packed));

uint64_t sg_now_ns(void);	/* CLOCK_MONOTONIC */
void sg_sleep_until(uint64_t deadline_ns);
int sg_parse_u64(const char *s, uint64_t *out);	/* decimal; 0 or -1 */
/* A number option or die with "bad NAME 'V'". */
uint64_t sg_opt_u64(const char *applet, const char *name, const char *v);
/* HOST (NULL: any) and PORT into @sa, or die. */
void sg_parse_addr(const char *applet, const char *host, const char *port, struct sockaddr_in *sa);
void sg_die(const char *applet, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* The byte of the TCP test stream at @offset: a fixed, position-dependent
 * pattern, so the sink can check every byte without knowing the sender. */
static inline uint8_t sg_pattern(uint64_t offset)
{
	uint64_t x = offset / 251;

	return (uint8_t)(offset % 251) ^ (uint8_t)(x * 131);
}

/* The request of the fuzz target (req-cli -> req-srv), big-endian; in a
 * UDP/IPv4 frame: magic at 42, client 46, seq 50, op 58, arg 59. */
#define SG_REQ_MAGIC 0x53475231u	/* "SGR1" */
struct sg_req {
	uint32_t magic;
	uint32_t client;
	uint64_t seq;
	uint8_t op;
	uint8_t arg;
	uint16_t pad;
} __attribute__((packed));
/* The answer: the request's seq and how many requests were served. */
struct sg_reply {
	uint32_t magic;
	uint64_t seq;
	uint64_t served;
} __attribute__((packed));

int sg_udp_send(int argc, char **argv);
int sg_udp_recv(int argc, char **argv);
int sg_tcp_send(int argc, char **argv);
int sg_tcp_sink(int argc, char **argv);
int sg_ticker(int argc, char **argv);
int sg_clock_peer(int argc, char **argv);
int sg_req_srv(int argc, char **argv);
int sg_req_cli(int argc, char **argv);

int sg_mem_pattern(int argc, char **argv);
int sg_work_timer(int argc, char **argv);

#endif
