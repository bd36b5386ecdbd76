/* SPDX-License-Identifier: MIT */
/*
 * libstasis_vmctl: QEMU VMs over QMP, and the instance directories that
 * describe them (one folder per VM under an instances root).
 *
 * Conventions (libbpf's): object__verb() names, negative errno returns,
 * opaque handles, options structs whose first member is their size (a NULL
 * options pointer means defaults; sz 0 is refused). Every failure leaves a
 * one-line message in vmctl__errmsg() (this thread's), a QMP connection's
 * too.
 */
#ifndef STASIS_VMCTL_H
#define STASIS_VMCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

/* A VM name is also a folder name and part of socket paths: 1-32 characters
 * of [A-Za-z0-9_.-], not starting with '.' or '-'. 0 or -EINVAL. */
int vmctl__name_valid(const char *name);
/* "ROOT/NAME" into @buf. -EINVAL for a bad name, -ENAMETOOLONG. */
int vmctl__instance_dir(const char *root, const char *name, char *buf, size_t len);
/* The instances root: $STASIS_VM_ROOT, else /var/lib/stasis/vm. */
const char *vmctl__root(void);
/* The last error message of a vmctl__/vm__/vm_group__/snap__/qmp__ call in
 * this thread. */
const char *vmctl__errmsg(void);
/* Where the RAM files of running VMs live: $STASIS_MEM_DIR, else
 * /dev/shm/stasis (a memory file system). */
const char *vmctl__mem_dir(void);

/* ---- QMP connections -------------------------------------------------- */

struct qmp;

struct qmp_opts {
	size_t sz;		/* sizeof(struct qmp_opts) */
	int timeout_ms;		/* connect, greeting and each command; default 5000 */
};

/* Connect to a QMP unix socket, read the greeting, negotiate capabilities.
 * -ENOENT/-ECONNREFUSED when nothing listens, -ETIMEDOUT, -EPROTO for a bad
 * greeting. On failure *out is NULL. */
int qmp__connect(const char *path, const struct qmp_opts *opts, struct qmp **out);
/* The same over an already connected socket (ownership of @fd passes). */
int qmp__open_fd(int fd, const struct qmp_opts *opts, struct qmp **out);
void qmp__close(struct qmp *q);
int qmp__fd(const struct qmp *q);
/* The QEMU behind the socket (SO_PEERCRED), or -ENOENT. */
pid_t qmp__peer_pid(const struct qmp *q);
/* QEMU's version from the greeting, e.g. 7.2.22 as 70222. */
int qmp__qemu_version(const struct qmp *q);

/* Send @cmd with @args (stolen; NULL for none) and wait for its reply.
 * *ret (if @ret) gets the "return" value (a new reference). An error reply
 * is -EREMOTEIO with "Class: desc" in vmctl__errmsg(); QEMU gone is -ECONNRESET;
 * no reply in time is -ETIMEDOUT; a malformed reply -EPROTO. */
int qmp__call(struct qmp *q, const char *cmd, json_t *args, json_t **ret);
/* qmp__call() passing @fd along (SCM_RIGHTS), as "getfd" wants. */
int qmp__call_fd(struct qmp *q, const char *cmd, json_t *args, int fd, json_t **ret);
/* Pass @fd to QEMU under @name (QMP getfd). */
int qmp__getfd(struct qmp *q, const char *name, int fd);

/* Asynchronous events read while waiting for replies are queued (the oldest
 * are dropped beyond 256). Take the next one (a new reference) or -EAGAIN. */
int qmp__next_event(struct qmp *q, json_t **ev);
/* Wait for an event named @name (and, if @status, whose data.status is one
 * of the '|'-separated words in @status). Other events are dropped. */
int qmp__wait_event(struct qmp *q, const char *name, const char *status,
		    int timeout_ms, json_t **ev);

/* The critical path: encode a command now, write it later with one send().
 * qmp__prepare() keeps one prepared command per connection. */
int qmp__prepare(struct qmp *q, const char *cmd, json_t *args);
int qmp__fire(struct qmp *q);
/* Read until the reply to the fired command is there. */
int qmp__collect(struct qmp *q, int timeout_ms, json_t **ret);
/* When the prepared command was written and its reply read (monotonic ns;
 * 0 when not yet). */
void qmp__fire_times(const struct qmp *q, uint64_t *sent_ns, uint64_t *ack_ns);

/* Fire the prepared command on all @n connections, then collect every reply
 * with one poll() over all sockets so each acknowledgement time is taken
 * when it arrives. Returns the number of connections that failed (0: all
 * acknowledged); per connection, qmp__fire_result(). */
int qmp__fire_all(struct qmp **qs, int n, int timeout_ms);
int qmp__fire_result(const struct qmp *q);

/* ---- instances -------------------------------------------------------- */

struct vm;	/* a loaded vm.json */

struct vm_start_opts {
	size_t sz;
	const char *qemu;	/* default qemu-system-x86_64 */
	const char *accel;	/* default $STASIS_ACCEL or tcg */
	int mem_mib;		/* default 128 */
	int smp;		/* default 1 */
	const char *kernel, *initrd, *append;
	const char *run_file;	/* fw_cfg opt/stasis/run */
	const char *tap, *mac;	/* network: a tap (QEMU creates it if missing) */
	const char *netns;	/* run QEMU inside this named netns */
	const char *disk;	/* a disk image: the VM runs on an overlay of it */
	int disk_mib;		/* or a new empty qcow2 disk of this size */
	bool paused;		/* -S */
	char **extra;		/* more QEMU arguments, NULL-terminated */
	/* RAM: by default a file QEMU shares (memory-backend-file, share=on)
	 * in @mem_dir (default vmctl__mem_dir()), so a save takes the file as
	 * the memory image and a restore maps it copy-on-write. @anon_ram:
	 * QEMU's own anonymous RAM (every save and restore streams it). */
	bool anon_ram;
	const char *mem_dir;
};

/* Create ROOT/NAME and launch QEMU; returns when QMP answers. -EEXIST when
 * the instance exists and its QEMU runs. */
int vm__start(const char *name, const struct vm_start_opts *opts);
/* Register a QEMU someone else started. @argv_file: its argv (NUL- or
 * newline-separated); NULL reads /proc/PID/cmdline of the peer. */
int vm__adopt(const char *name, const char *qmp_path, const char *argv_file);

int vm__load(const char *name, struct vm **out);
void vm__free(struct vm *vm);
const char *vm__name(const struct vm *vm);
const char *vm__qmp_path(const struct vm *vm);
const char *vm__dir(const struct vm *vm);
pid_t vm__pid(const struct vm *vm);	/* recorded pid, 0 if none */
/* The vm.json document (borrowed). */
const json_t *vm__json(const struct vm *vm);
/* Every instance name under the root, sorted; free each and the array. */
int vm__list(char ***names, int *n);
/* Open (and negotiate) the instance's QMP connection. */
int vm__connect(struct vm *vm, int timeout_ms, struct qmp **out);
/* "running", "paused", ... from query-status, or "dead" when no QMP. */
int vm__status(struct vm *vm, char *buf, size_t len);
/* QMP quit, then wait for the process to go (killed after @timeout_ms). */
int vm__quit(struct vm *vm, int timeout_ms);
/* Forget an instance whose QEMU is gone: its folder and its own RAM file.
 * -EBUSY for one that runs, -ENOENT for none. */
int vm__remove(const char *name);

/* ---- snapshots -------------------------------------------------------- */

struct snap_opts {
	size_t sz;
	bool live;		/* background-snapshot: the VM keeps running */
	bool resume;		/* cont after a (non-live) save */
	bool progress;		/* progress lines on stderr */
	int timeout_ms;		/* a whole migration; default 600000 */
	uint64_t max_bandwidth;	/* bytes/s of the stream and of a memory image copy;
				 * default 0: as fast as possible */
	/* Called about every 500 ms while a VM's state is being written:
	 * RAM bytes sent so far and in all (the agent publishes it). */
	void (*on_progress)(void *ctx, const char *vm, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* Quit each VM once its state is saved: its RAM file is then moved
	 * into the snapshot (a rename where the folders share a file system)
	 * instead of copied. */
	bool quit;
};

/* Per-VM outcome of a save, for reports. */
struct snap_vm_result {
	char name[40];
	int err;			/* 0 or -errno */
	char msg[256];
	uint64_t stop_sent_ns, stop_ack_ns;	/* 0 for a live snapshot */
	uint64_t start_ns;		/* snap__save() began */
	uint64_t saved_ns;		/* migration done */
	uint64_t bytes;			/* state file size */
	bool mem_image;			/* RAM saved as a memory image beside it */
	uint64_t mem_bytes;		/* the image's data (holes not counted) */
	int64_t downtime_ms;		/* QEMU's downtime (live), else -1 */
	double paused_ms;		/* live: measured pause */
};

/* Save @n VMs (all stopped at once first, unless live) into @snapdir. The
 * snapshot is marked complete (SNAPDIR/complete, written last, atomically)
 * only when every VM saved. @res: @n results. */
int snap__save(const char *snapdir, char **names, int n, const struct snap_opts *opts,
	       struct snap_vm_result *res);
/*
 * The same in steps, for a caller with a critical moment (the agent): open
 * loads the instances, connects and negotiates every QMP socket and encodes
 * a stop for each; stop is then only the N writes, replies collected after
 * (returns how many failed; qmp__fire_times() on vm_group__qmp() has the
 * times); save does the rest (stopping first if that was not done, unless
 * live). close ends the connections, not the VMs.
 */
struct vm_group;
int vm_group__open(char **names, int n, int timeout_ms, struct vm_group **out);
int vm_group__stop(struct vm_group *g);
int vm_group__save(struct vm_group *g, const char *snapdir, const struct snap_opts *opts,
		   struct snap_vm_result *res);
/* Continue every VM of the group at once, as vm_group__stop stops them:
 * the command encoded on every connection first, then one write each, the
 * replies collected with one poll. Returns how many failed. */
int vm_group__cont(struct vm_group *g);
/* Give the running VMs up to @timeout_ms to read the frames waiting in
 * their taps' queues (only the taps named in @taps, all when NULL): call it
 * with the network held, before the stop, or those frames are in neither the
 * held frames nor the saved state. 0 when every queue is empty; else how
 * many are not, named in @left ("tap0 (VM a), ..."); negative errno when a
 * queue cannot be looked at (vmctl__errmsg()). A paused VM reads nothing:
 * its queues are looked at once, not waited for ("tap1 (VM b, paused)"). */
int vm_group__settle_rx(struct vm_group *g, const char *const *taps, int n_taps, int timeout_ms,
			char *left, size_t leftlen);
/* How far apart the group's last stop or cont was acknowledged (ns). */
uint64_t vm_group__spread_ns(const struct vm_group *g);
/* From the first command written to the last acknowledgement: every VM
 * stopped or went on within it (each between its write and its ack). */
uint64_t vm_group__window_ns(const struct vm_group *g);
int vm_group__size(const struct vm_group *g);
struct qmp *vm_group__qmp(const struct vm_group *g, int i);
struct vm *vm_group__vm(const struct vm_group *g, int i);
void vm_group__close(struct vm_group *g);

/* Whether @snapdir is complete; its VM names (free each and the array). */
int snap__open(const char *snapdir, char ***names, int *n);

struct restore_opts {
	size_t sz;
	bool paused;		/* stay paused after the state is loaded */
	const char *as;		/* restore under this instance name */
	const char *tap;	/* replace the tap name (not with copy: its taps are TAPcN) */
	int copy;		/* fork: copy N is NAME-cN, every tap TAPcN, MACs + N */
	bool net_none;		/* replace tap backends by a hub port (dump-mem) */
	const char *root;	/* another instances root (default vmctl__root()) */
	int timeout_ms;
	/* A snapshot with a memory image is mapped copy-on-write, each page
	 * faulted in when the guest first touches it. VM_PREFAULT_CACHE reads
	 * the image into the page cache first (no first touch waits for the
	 * disk); VM_PREFAULT_ALL has QEMU touch every page before the guest
	 * runs (a private copy of the whole RAM: no sharing, a slower restore,
	 * no fault later). */
	int prefault;
	const char *mem_dir;	/* RAM files of restores from a stream */
};
enum { VM_PREFAULT_NONE, VM_PREFAULT_CACHE, VM_PREFAULT_ALL };
/* Their names, by value ("none", "cache", "all"), NULL-terminated: the CLIs'
 * option and the coordinator's requests say them so. */
extern const char *const vmctl__prefault_words[];
/* The value of @word, or -EINVAL. */
int vmctl__prefault_parse(const char *word);

/* Restore VM @name of @snapdir as a fresh instance on a new overlay of the
 * frozen disk. An instance of that name whose QEMU runs is quit first.
 * @load_ms: seconds from exec to running (or paused), if not NULL. */
int snap__restore(const char *snapdir, const char *name, const struct restore_opts *opts,
		  double *load_ms);
/* Restore @n VMs of @snapdir at once, one thread each (a restore is mostly
 * QEMU starting and loading its state file). 0, or the first failure with
 * its message. @opts as for snap__restore (no @as/@copy: names differ). */
int snap__restore_all(const char *snapdir, char **names, int n, const struct restore_opts *opts);
/* Guest memory of @name in @snapdir as an ELF core in @out (a paused restore
 * in a scratch instance, dump-guest-memory, quit). */
int snap__dump_mem(const char *snapdir, const char *name, const char *out);

#pragma GCC visibility pop

#endif
