/* SPDX-License-Identifier: MIT */
/* Private to libstasis_vmctl (and its unit tests): not part of the API. */
#ifndef STASIS_VMCTL_INTERNAL_H
#define STASIS_VMCTL_INTERNAL_H

#include <stdarg.h>
#include "vmctl/vmctl.h"
#include "util/util.h"
#include "util/opts.h"

/* One QMP message, classified. */
enum qmp_kind { QMP_GREETING, QMP_RETURN, QMP_ERROR, QMP_EVENT };

struct qmp_msg {
	enum qmp_kind kind;
	json_t *root;		/* the whole message (owned) */
	int64_t id;		/* replies: our numeric id, -1 when absent */
	const char *event;	/* events: the name (borrowed from root) */
	char errdesc[256];	/* error replies: "Class: desc" */
};

/* Parse one line of QMP (no newline needed). 0 and @m filled (release with
 * qmp_msg__release), or -EPROTO with a line in @err. Never crashes on any
 * input: the fuzz target's entry. */
int qmp_msg__parse(const char *buf, size_t len, struct qmp_msg *m, char *err, size_t errlen);
void qmp_msg__release(struct qmp_msg *m);
/* The last error on this connection (a group's commands fail one by one;
 * vmctl__errmsg() has only the latest). */
const char *qmp_errmsg(const struct qmp *q);

/* Error message of this thread (vmctl__errmsg). Returns @ret. */
int vm_seterr(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ROOT/NAME into @buf, with the error set (vm_seterr) for a bad name or a
 * folder name too long. 0 or negative errno. */
int instance_dir_checked(const char *root, const char *name, char *buf, size_t len);

/* A name part no other layer file has: wall-clock seconds and monotonic
 * nanoseconds, hex. */
void layer_tag(char *buf, size_t len);


/* Instances (instance.c). */
struct vm {
	char name[40];
	char dir[4096];
	json_t *j;
};
int vm_load_at(const char *root, const char *name, struct vm **out);
int vm_store(struct vm *vm);
/* Remove the RAM file of @vm if it is the instance's own (shared, not a
 * snapshot's image): call it once its QEMU is gone. */
void vm_drop_ram(struct vm *vm);
/* Whether @pid is alive and a process whose argv[0] looks like qemu. */
bool pid_is_qemu(pid_t pid);

/* qemu_spawn()'s @netns for a new, empty network namespace of its own. */
#define QEMU_NETNS_PRIVATE "!private"
/* Launching (launch.c): fork+exec @argv in @netns (NULL for ours), stdout and
 * stderr to @logpath, wait until @qmp_path answers. *pid: QEMU's pid. */
int qemu_spawn(char **argv, const char *netns, const char *logpath, const char *qmp_path,
	       int timeout_ms, pid_t *pid, struct qmp **q);
/* The last line of a file (QEMU's log: its last complaint), "" if none. */
void last_line(const char *path, char *buf, size_t len);
/* argv <-> JSON array. */
json_t *argv_to_json(char **argv);
char **argv_from_json(const json_t *a);
void argv_free(char **argv);
/* QEMU option lists ("tap,id=n0,ifname=t0,script=no"). The value of @key:
 * a pointer into @s and its length (*len), or NULL. */
const char *opt_get(const char *s, const char *key, size_t *len);
/* @s with the value of @key replaced by @val (a new string; NULL when @key
 * is not there). */
char *opt_set(const char *s, const char *key, const char *val);
/* The leading word of an option list ("tap" of "tap,id=n0"), "" if the list
 * starts with a key=value. */
void opt_driver(const char *s, char *buf, size_t len);
/* Whether a boolean option is on ("server", "server=on|yes|true"). */
bool opt_on(const char *s, const char *key);
/* @s with each use of the file @from as a value ("x=FROM" followed by ',' or
 * the end) or as the whole argument replaced by @to; NULL when @from is not
 * used. The same rule as the save uses to find a disk in a command line. */
char *replace_path(const char *s, const char *from, const char *to);
/* Whether argument @s names @path the way replace_path finds it: the whole
 * argument, or a whole "=PATH" value. The save takes a disk only when the
 * restore can find it again. */
bool arg_has_path(const char *s, const char *path);
/* The value of @key in the argument after the first option @opt whose value
 * has @match=@mval (any when @match is NULL) and whose driver is @drv (any
 * when NULL), as a new string, or NULL. */
char *find_opt(char **argv, const char *opt, const char *drv, const char *match,
	       const char *mval, const char *key);
/* MAC @mac with @n added to its last three bytes (the NIC part; the OUI is
 * kept), into @out (18 bytes). 0, or -EINVAL for something not a MAC. */
int mac_add(const char *mac, unsigned n, char *out, size_t len);
/* Guest RAM in a file (memfile.c). A new file name for a launch of @name
 * in @dir (NULL: vmctl__mem_dir()), the folder created. */
int memfile_new_path(const char *dir, const char *name, char *buf, size_t len);
struct memfile_copy_opts {
	bool durable;		/* fsync the copy and its folder */
	uint64_t max_bps;	/* bytes written per second at most; 0: no cap */
	void (*on_progress)(void *ctx, uint64_t done, uint64_t total);
	void *ctx;
};
/* @from into @to (through @to.tmp, never half a file under @to): a reflink
 * where the file system can, else only the data of @from that is not all
 * zero, the rest left as holes. *data: bytes the copy holds. 0 or -errno. */
int memfile_copy(const char *from, const char *to, const struct memfile_copy_opts *o,
		 uint64_t *data);
/* rename(), or a copy and unlink where the folders are on two file systems. */
int memfile_move(const char *from, const char *to, const struct memfile_copy_opts *o,
		 uint64_t *data);
/* Read @path's data into the page cache (a restore that should not fault
 * on the disk). */
int memfile_prefetch(const char *path);
/* The index in @argv of the value of the -object memory-backend-file that
 * -machine memory-backend= names, or -1. */
int memfile_argv_backend(char **argv);

/* Run qemu-img create -f qcow2 [-b BACKING -F qcow2] FILE [SIZE]. */
int qcow2_create(const char *file, const char *backing, long size_mib);

#endif
