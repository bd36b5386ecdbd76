// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the pcap/pcapng reader (sp__from_pcapng) over any bytes.
 * It must never crash, hang, leak or read out of bounds. A refused input gets
 * one line naming the file; an accepted one gives a complete .sp whose
 * frames and interfaces survive to-pcapng and from-pcapng again unchanged.
 * The functions take paths: the input and outputs are files in a folder of
 * their own (in /dev/shm when there is one: the writer fsyncs).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sp-format/sp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], in_path[96], a_path[96], b_path[96], c_path[96];

static void cleanup(void)
{
	unlink(in_path);
	unlink(a_path);
	unlink(b_path);
	unlink(c_path);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/fuzz_pcap.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(in_path, sizeof(in_path), "%s/in", dir);
	snprintf(a_path, sizeof(a_path), "%s/a.sp", dir);
	snprintf(b_path, sizeof(b_path), "%s/b.pcapng", dir);
	snprintf(c_path, sizeof(c_path), "%s/c.sp", dir);
	atexit(cleanup);
}

static bool same_iface(const struct sp_iface *x, const struct sp_iface *y)
{
	return x->ifindex == y->ifindex && !memcmp(x->mac, y->mac, 6) && x->role == y->role &&
	       !strcmp(x->name, y->name) && !strcmp(x->vm, y->vm) && !strcmp(x->host, y->host);
}

static bool same_frame(const struct sp_frame *x, const struct sp_frame *y)
{
	return x->seq == y->seq && x->ts_ns == y->ts_ns && x->iface == y->iface &&
	       x->dir == y->dir && x->flags == y->flags && x->orig_len == y->orig_len &&
	       x->cap_len == y->cap_len && !memcmp(x->data, y->data, x->cap_len);
}

/* a.sp and c.sp hold the same interfaces and frames, and both are complete. */
static void compare(void)
{
	struct sp_reader *ra, *rc;
	struct sp_frame fa, fc;
	int a, c;

	if (sp_reader__open(&ra, a_path, 0) || sp_reader__open(&rc, c_path, 0))
		abort();
	if (sp_reader__iface_count(ra) != sp_reader__iface_count(rc))
		abort();
	for (uint32_t i = 0; i < sp_reader__iface_count(ra); i++)
		if (!same_iface(sp_reader__iface(ra, i), sp_reader__iface(rc, i)))
			abort();
	do {
		a = sp_reader__next(ra, &fa);
		c = sp_reader__next(rc, &fc);
		if (a != c || (a == 1 && !same_frame(&fa, &fc)))
			abort();
	} while (a == 1);
	if (!sp_reader__complete(ra) || !sp_reader__complete(rc))
		abort();
	sp_reader__close(ra);
	sp_reader__close(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *err = sp__errmsg();
	FILE *f;

	if (!dir[0])
		setup();
	f = fopen(in_path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	if (sp__from_pcapng(in_path, a_path, "fuzz", NULL)) {
		/* Refused: one line that names the file. */
		if (strncmp(err, in_path, strlen(in_path)) || strchr(err, '\n'))
			abort();
		if (access(a_path, F_OK) == 0)
			abort();	/* no output for a refused input */
		return 0;
	}
	if (sp__to_pcapng(a_path, b_path) || sp__from_pcapng(b_path, c_path, "other", NULL))
		abort();	/* what stasis wrote, stasis must read */
	compare();
	unlink(a_path);
	unlink(b_path);
	unlink(c_path);
	return 0;
}
