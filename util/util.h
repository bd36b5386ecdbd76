/* SPDX-License-Identifier: MIT */
/* The internal utility library: helpers every stasis library needs the same
 * way. Not part of any API: each libstasis_*.a carries its own copy of these
 * objects with their symbols made local (Makefile, LIBRULE), so `nm` of a
 * library shows only its prefixed API and two libraries never clash.
 * Conventions as everywhere: 0 (or a count) on success, negative errno on
 * failure; no message is set here, the caller's library says what failed. */
#ifndef STASIS_UTIL_H
#define STASIS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t util_now_ns(void);

/* write() of all @len bytes, through EINTR and short writes. */
int util_write_all(int fd, const void *buf, size_t len);
int util_fsync_dir(const char *dir);
/* fsync the folder @path is in (a rename or a new file in it made durable). */
int util_fsync_parent(const char *path);
/* Writing a file whole or not at all: util_tmp_open() opens "@path.tmp"
 * (its name in @tmp) and returns the fd; util_tmp_commit() after @err (0:
 * all written) fsyncs it if @durable, closes it and renames it over @path
 * (then fsyncs the folder), or removes it. */
int util_tmp_open(const char *path, char *tmp, size_t len);
int util_tmp_commit(int fd, const char *tmp, const char *path, bool durable, int err);
/* @len bytes into @path through PATH.tmp, fsynced, renamed, folder fsynced. */
int util_write_file_atomic(const char *path, const void *buf, size_t len);
/* @v (indented, keys in order, a final newline) the same way. */
int util_json_write_atomic(const char *path, json_t *v);
/* @from from byte @offset on into @to, whole or not at all. */
int util_copy_file(const char *from, const char *to, off_t offset, bool durable);
int util_mkdir_p(const char *path, mode_t mode);
/* @path and everything under it; 0 when it is not there. */
int util_rm_rf(const char *path);

/* A file's bytes in memory, for a reader that goes over them more than
 * once: mapped read-only when it is a regular file, read whole when it is a
 * pipe or another stream. A regular file cut short by someone else while it
 * is mapped faults its reader (SIGBUS), as with any mapping. */
struct util_map {
	const uint8_t *p;
	size_t len;
	bool mapped;
};
int util_map_open(struct util_map *m, const char *path);
void util_map_close(struct util_map *m);

/* A large file written whole or not at all, durably and without the page
 * cache where the file system allows (util/out.c says why): bytes go in
 * through util_out_write(), or are built in place in util_out_reserve()'s
 * room (at most UTIL_OUT_RESERVE_MAX bytes) and given by
 * util_out_advance(); util_out_commit() writes the rest, fsyncs, renames
 * the temporary over the path and fsyncs the folder; util_out_discard()
 * removes it. Both free the handle. */
#define UTIL_OUT_RESERVE_MAX	(2u << 20)
struct util_out;
#define UTIL_OUT_DIRECT		1u	/* O_DIRECT and a writer thread */
int util_out_open(struct util_out **out, const char *path, unsigned int flags);
uint8_t *util_out_reserve(struct util_out *o, size_t len);
int util_out_advance(struct util_out *o, size_t len);
int util_out_write(struct util_out *o, const void *p, size_t len);
/* The first write error (0: none). */
int util_out_error(const struct util_out *o);
int util_out_commit(struct util_out *o);
void util_out_discard(struct util_out *o);

#endif
