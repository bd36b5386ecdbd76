// SPDX-License-Identifier: MIT
/*
 * crcpass FILE FRAMES: the CRC32C work a .sp reader or writer does on FILE,
 * alone: for each of FRAMES records of the file's mean record size, the
 * record's own CRC (all but its last 4 bytes) and the file's running CRC
 * (the whole record), as sp-format/reader.c and writer.c compute them.
 * Prints "crcpass: bytes=B ns=T" (the file is read into memory first, and
 * not timed). For bench_sp.sh: what the CRC of a conversion costs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sp-format/sp.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct stat st;
	const uint8_t *p;
	uint64_t frames, rec, t0, t1;
	uint32_t rc = 0, fc = 0;
	volatile uint32_t sink;
	int fd;

	if (argc != 3 || (frames = strtoull(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: crcpass FILE FRAMES\n");
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	rec = (uint64_t)st.st_size / frames;
	if (rec < 8) {
		fprintf(stderr, "crcpass: records of %llu bytes: too few bytes for %llu frames\n",
			(unsigned long long)rec, (unsigned long long)frames);
		return 1;
	}
	t0 = now_ns();
	for (uint64_t i = 0; i < frames; i++) {
		const uint8_t *r = p + i * rec;

		rc ^= sp__crc32c(0, r, rec - 4);
		fc = sp__crc32c(fc, r, rec);
	}
	t1 = now_ns();
	sink = rc ^ fc;
	(void)sink;
	printf("crcpass: bytes=%llu ns=%llu\n", (unsigned long long)(frames * rec),
	       (unsigned long long)(t1 - t0));
	return 0;
}
