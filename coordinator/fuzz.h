/* SPDX-License-Identifier: MIT */
/*
 * The fuzz loop behind `stasis fuzz` (internal to coordinator/ and its CLI).
 *
 * A run takes one host's part of a snapshot (manifest.json, vms/, net.sp),
 * makes or takes fuzz cases of one held frame (.sp files: the whole held
 * traffic with that frame mutated), and for each case restores every VM
 * (in parallel, paused), holds the network, resumes the VMs, replays the
 * case's frames, and watches for a verdict. Results go to a folder:
 *
 *   run.json        the run's parameters (a re-run must match them)
 *   cases/          case-NNNNNN.sp and cases.jsonl (what each changed)
 *   results.jsonl   one line per case that ran, appended and synced
 *   repro/          case-NNNNNN.sp for every case that did not pass
 *   console/        case-NNNNNN-VM.log: each VM's console during the case
 *   summary.json    counts and mean times, rewritten after every case
 */
#ifndef COORD_FUZZ_H
#define COORD_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "coordinator/coord.h"

/* The API: visible from the library (everything else is hidden). */
#pragma GCC visibility push(default)

/* Verdicts, in results and summaries by name. */
enum fuzz_verdict { FUZZ_OK, FUZZ_FAIL, FUZZ_HANG, FUZZ_ERROR, FUZZ_NVERDICT };
const char *fuzz__verdict_name(enum fuzz_verdict v);

/*
 * Watchdogs, one per --watch SPEC:
 *   console:VM:REGEX     fail when a line of VM's console matches (ERE)
 *   ok:VM:REGEX          pass when a line of VM's console matches
 *   event:VM[:E,E...]    fail on these QEMU events of VM (default
 *                        GUEST_PANICKED,SHUTDOWN,RESET), or QEMU gone
 *   probe:udp:IP:PORT:HEX  pass when a datagram of HEX bytes is answered
 *   probe:tcp:IP:PORT    pass when a connection is accepted
 *   cmd:SHELL-COMMAND    run after the replay: exit 0 passes, else fail
 * A case ends at the first failure, or when every passing watchdog has
 * passed; at the timeout it is a hang if one of those has not, else ok.
 */
struct fuzz_watch;
int fuzz_watch__parse(const char *spec, struct fuzz_watch **out);
void fuzz_watch__free(struct fuzz_watch *w);
const char *fuzz_watch__spec(const struct fuzz_watch *w);
/* The VM it looks at, or NULL. */
const char *fuzz_watch__vm(const struct fuzz_watch *w);
/* "@HOST:SPEC" (a probe or command run on that host of a snapshot of
 * several hosts): HOST, else NULL; and SPEC without it. */
const char *fuzz_watch__host(const struct fuzz_watch *w);
const char *fuzz_watch__body(const struct fuzz_watch *w);
/* Whether a case waits for it to pass (ok:, probes, commands). */
bool fuzz_watch__must_pass(const struct fuzz_watch *w);

/* A VM of the case, as the watchdogs see it. */
struct fuzz_vm {
	const char *name;
	struct qmp *qmp;	/* open, for events */
	const char *console;	/* console log path */
	long long offset;	/* its size when the case began */
};
/* The watchdogs' view of a part's VMs (their open connections, borrowed
 * from @g) and where each console stood before the case went on. */
struct vm_group;
struct fuzz_case_vms {
	struct fuzz_vm *fv;
	char (*console)[4096];
	int n;
};
int fuzz_case_vms__open(struct vm_group *g, struct fuzz_case_vms *c);
void fuzz_case_vms__close(struct fuzz_case_vms *c);

struct fuzz_watch_result {
	enum fuzz_verdict verdict;
	char reason[512];
	double seconds;		/* from the start of the watch to the verdict */
};
/* Watch until a verdict, the timeout, or *stop (returns -EINTR). @env:
 * NULL-terminated "K=V" strings added to a command's environment. */
int fuzz_watch__run(struct fuzz_watch **w, size_t n, struct fuzz_vm *vms, size_t n_vms,
		    double timeout_s, volatile int *stop, char *const *env,
		    struct fuzz_watch_result *res);

/* ---- across hosts (fuzz_hosts.c) ---------------------------------------------
 * A snapshot of several hosts is fuzzed through their agents. */
struct coord_mqtt_opts;
struct fuzz_hosts_opts {
	size_t sz;			/* sizeof(struct fuzz_hosts_opts) */
	const struct coord_mqtt_opts *mqtt;
	const char *experiment;
	uint64_t epoch;
	const char *frame_host;		/* the host whose held frame is fuzzed */
	char **hosts;			/* every host with a part */
	int n_hosts;
	const char *const *watch;	/* --watch specs */
	size_t n_watch;
	double timeout_s;
	int timeout_ms;			/* for a round (0: 600 s) */
	const char *out;		/* results folder */
	volatile int *stop;
	int prefault;			/* VM_PREFAULT_*, asked of every host's restore */
};
struct fuzz_hosts;
#define FUZZ_HOSTS_NO_BROKER "a snapshot of several hosts is fuzzed through their agents: give --broker " \
	"(and --experiment), or run this where an agent of the experiment runs"
int fuzz_hosts__open(struct fuzz_hosts **out, const struct fuzz_hosts_opts *o);
/* One case (the frames of @case_sp in place of the fuzzed host's held
 * ones): *res gets verdict, reason, the step times, console files and per
 * host what each step took. A failure that is not the case's doing is
 * returned (nothing recorded); -EINTR when stopped. */
int fuzz_hosts__case(struct fuzz_hosts *h, uint32_t id, const char *case_sp, const char *prefix, json_t **res);
void fuzz_hosts__close(struct fuzz_hosts *h);
/* An agent's share of a case (the resume's "watch"): its watchdogs over
 * its VMs @cv, until a verdict, the timeout or *@stop. *out: the reply. */
int fuzz_hosts__watch(const char *host, json_t *watch, struct fuzz_case_vms *cv, volatile int *stop,
		      json_t **out);

struct fuzz_progress {
	uint32_t done, total;		/* cases finished (including earlier runs) */
	uint32_t counts[FUZZ_NVERDICT];
	const json_t *last;		/* the result line of the case just done */
};

struct fuzz_opts {
	size_t sz;			/* sizeof(struct fuzz_opts) */
	const char *snapshot;		/* a snapshot (one host's part, or several) */
	const char *host;		/* several: the host whose frame is fuzzed (NULL: the one holding it) */
	const struct coord_mqtt_opts *mqtt;	/* several: the agents' broker */
	const char *experiment;
	bool across_hosts;		/* through the agents even with one part here */
	const char *frame;		/* "trigger" (default), N, or match:OFFSET:HEX */
	uint32_t from, to;		/* byte range of the frame to mutate */
	uint32_t cases;			/* to make with sp__mutate ... */
	uint64_t seed;
	const char *cases_dir;		/* ... or case-*.sp files made elsewhere */
	bool raw;			/* keep checksums as mutated */
	const char *const *watch;	/* --watch specs */
	size_t n_watch;
	double timeout_s;
	uint64_t rate_pps;		/* replay pacing (0: no pace) */
	const char *out;		/* results folder */
	volatile int *stop;
	void (*progress)(const struct fuzz_progress *p, void *ctx);
	void *ctx;
	int prefault;			/* VM_PREFAULT_*: how each case's restore maps the images */
};
/* Run (or resume) a campaign; *summary: the summary (new reference). */
int fuzz__run(const struct fuzz_opts *o, json_t **summary);
/* Run case @id of a results folder again, with its watchdogs; the VMs are
 * left running (to be looked at) unless @quit. *result: the result line. */
struct fuzz_repro_opts {
	size_t sz;			/* sizeof(struct fuzz_repro_opts) */
	bool quit;				/* quit the VMs after (one host) */
	volatile int *stop;
	const struct coord_mqtt_opts *mqtt;	/* a run across hosts: the agents' broker */
	const char *experiment;
};
int fuzz__repro(const char *results, uint32_t id, const struct fuzz_repro_opts *o, json_t **result);
/* The summary of a results folder, and its non-passing cases. */
int fuzz__report(const char *results, json_t **report);

#pragma GCC visibility pop

#endif
