// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "bpf/stasis_bpf.h"
#include "bpf/stasis.skel.h"

struct stasis_prog {
	struct stasis_skel *skel;
};

/*
 * The verifier's log of a refused program. Big: Linux 6.1 keeps the start
 * of a log that does not fit and loses its end, which is where the
 * complaint is (6.4 and later keep the end). libbpf asks for a log only
 * when a load failed, and calloc's pages are only touched by then.
 */
#define VLOG_SIZE (16u << 20)

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Copy line [b, e) of a log into @out, without the register states the
 * verifier prints after "; " on instruction lines. */
static void line_copy(char *out, size_t len, const char *b, const char *e)
{
	const char *semi = memmem(b, (size_t)(e - b), " ; ", 3);

	if (semi)
		e = semi;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	snprintf(out, len, "%.*s", (int)(e - b), b);
}

/* An instruction line: "73: (85) call bpf_skb_load_bytes#26". */
static bool insn_line(const char *b, const char *e)
{
	const char *p = b;

	while (p < e && *p >= '0' && *p <= '9')
		p++;
	return p > b && p + 3 < e && p[0] == ':' && p[1] == ' ' && p[2] == '(';
}

static bool stats_line(const char *b)
{
	return starts(b, "processed ") || starts(b, "verification time") ||
	       starts(b, "stack depth ");
}

void stasis_bpf__verifier_summary(const char *prog, const char *log, char *out, size_t len)
{
	const char *b, *e = log + strlen(log), *last = NULL;
	char complaint[320] = "", line[256], insn[sizeof(line) + 16] = "";

	/* Backwards from the end, past the statistics the verifier prints
	 * after any verdict: the lines after the last instruction line are
	 * the complaint ("invalid access to packet, ...", "R1 offset is
	 * outside of the packet"), that instruction is where it was made. */
	while (e > log) {
		for (b = e; b > log && b[-1] != '\n'; b--)
			;
		if (e > b && insn_line(b, e)) {
			/* "73: (85) call ..." without the opcode: "73: call ..." */
			const char *colon = memchr(b, ':', (size_t)(e - b));
			const char *close = memchr(colon, ')', (size_t)(e - colon));

			if (close && close + 2 <= e) {
				line_copy(line, sizeof(line), close + 2, e);
				snprintf(insn, sizeof(insn), "%.*s: %s", (int)(colon - b > 12 ? 12 : colon - b), b, line);
			}
			if (complaint[0])
				break;
			insn[0] = '\0';	/* nothing after it: not where it failed */
		} else if (e > b && !stats_line(b) && !starts(b, "; ")) {
			char both[sizeof(line) + 2 + sizeof(complaint)];

			line_copy(line, sizeof(line), b, e);
			snprintf(both, sizeof(both), "%s%s%s", line, complaint[0] ? "; " : "", complaint);
			memcpy(complaint, both, sizeof(complaint) - 1);	/* a long one is cut */
			complaint[sizeof(complaint) - 1] = '\0';
			if (!last)
				last = b;
			/* Without instruction lines (a log of BTF or of the
			 * loader's own checks), the last line alone. */
		}
		e = b > log ? b - 1 : log;
	}
	if (complaint[0] && !insn[0] && last) {
		const char *le = strchr(last, '\n');

		line_copy(complaint, sizeof(complaint), last, le ? le : last + strlen(last));
	}
	if (!complaint[0])
		snprintf(out, len, "the kernel refused program %s and its verifier gave no reason; "
			 "STASIS_DEBUG=1 (or --debug) prints what libbpf says", prog);
	else if (insn[0])
		snprintf(out, len, "the kernel's verifier refused program %s: %s (at %s); "
			 "STASIS_DEBUG=1 (or --debug) prints its whole log", prog, complaint, insn);
	else
		snprintf(out, len, "the kernel's verifier refused program %s: %s; "
			 "STASIS_DEBUG=1 (or --debug) prints its whole log", prog, complaint);
}

struct vlogs {
	int n;
	char *buf[8];
	struct bpf_program *prog[8];
};

/* A log buffer on every program that will be loaded. */
static int vlogs_set(struct bpf_object *obj, struct vlogs *v)
{
	struct bpf_program *prog;

	memset(v, 0, sizeof(*v));
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
		if (v->n == (int)(sizeof(v->buf) / sizeof(v->buf[0])))
			break;	/* more than the object has: the rest get libbpf's own */
		v->buf[v->n] = calloc(1, VLOG_SIZE);
		if (!v->buf[v->n])
			return -ENOMEM;
		v->prog[v->n] = prog;
		bpf_program__set_log_buf(prog, v->buf[v->n], VLOG_SIZE);
		v->n++;
	}
	return 0;
}

/* After a failed load: the one line for the program whose log is not
 * empty (the refused one: libbpf asks for a log only after a failure),
 * and the whole log on stderr when STASIS_DEBUG is set. */
static __thread char errmsg[1024];

const char *stasis_bpf__errmsg(void) { return errmsg; }

static int seterr(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int seterr(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return ret;
}

static void vlogs_why(struct vlogs *v, int err)
{
	char *why = errmsg;
	size_t len = sizeof(errmsg);

	for (int i = 0; i < v->n; i++) {
		const char *name = bpf_program__name(v->prog[i]);

		if (!v->buf[i][0])
			continue;
		if (getenv("STASIS_DEBUG") && *getenv("STASIS_DEBUG"))
			fprintf(stderr, "-- the verifier's log of %s --\n%s-- end of the log of %s --\n",
				name, v->buf[i], name);
		if (err == -ENOSPC)
			snprintf(why, len, "the kernel's verifier refused program %s with a log "
				 "longer than %u MiB", name, VLOG_SIZE >> 20);
		else
			stasis_bpf__verifier_summary(name, v->buf[i], why, len);
		return;
	}
	snprintf(why, len, "%s", strerror(-err));
}

static void vlogs_free(struct vlogs *v)
{
	for (int i = 0; i < v->n; i++) {
		bpf_program__set_log_buf(v->prog[i], NULL, 0);
		free(v->buf[i]);
	}
	v->n = 0;
}

int stasis_bpf__load_object(struct bpf_object *obj)
{
	struct vlogs v;
	int err;

	errmsg[0] = '\0';
	err = vlogs_set(obj, &v);

	if (!err)
		err = bpf_object__load(obj);
	if (err)
		vlogs_why(&v, err);
	vlogs_free(&v);
	return err;
}

int stasis_prog__load(struct stasis_prog **out, uint32_t ring_bytes)
{
	struct stasis_prog *p = calloc(1, sizeof(*p));
	int err, ncpu = libbpf_num_possible_cpus();
	struct vlogs v;

	errmsg[0] = '\0';
	if (!p)
		return seterr(-ENOMEM, "out of memory");
	if (ncpu < 1) {
		free(p);
		return seterr(ncpu < 0 ? ncpu : -EINVAL, "cannot count the possible CPUs");
	}
	p->skel = stasis_skel__open();
	if (!p->skel) {
		err = errno ? -errno : -EINVAL;
		free(p);
		return seterr(err, "opening the embedded BPF object: %s", strerror(-err));
	}
	/* One scratch slot per CPU (the programs index it by CPU id). */
	bpf_map__set_max_entries(p->skel->maps.scratch, (uint32_t)ncpu);
	if (ring_bytes)
		bpf_map__set_max_entries(p->skel->maps.ring, ring_bytes);
	err = vlogs_set(p->skel->obj, &v);
	if (!err)
		err = stasis_skel__load(p->skel);
	if (err) {
		err = err < 0 ? err : -err;
		vlogs_why(&v, err);
		vlogs_free(&v);
		stasis_skel__destroy(p->skel);
		free(p);
		return err;
	}
	vlogs_free(&v);
	*out = p;
	return 0;
}

void stasis_prog__destroy(struct stasis_prog *p)
{
	if (!p)
		return;
	stasis_skel__destroy(p->skel);
	free(p);
}

int stasis_prog__prog_count(const struct stasis_prog *p)
{
	return p->skel->skeleton->prog_cnt;
}

const char *stasis_prog__prog_name(const struct stasis_prog *p, int i)
{
	if (i < 0 || i >= p->skel->skeleton->prog_cnt)
		return NULL;
	return p->skel->skeleton->progs[i].name;
}

int stasis_prog__map_count(const struct stasis_prog *p)
{
	return p->skel->skeleton->map_cnt;
}

const char *stasis_prog__map_name(const struct stasis_prog *p, int i)
{
	if (i < 0 || i >= p->skel->skeleton->map_cnt)
		return NULL;
	return p->skel->skeleton->maps[i].name;
}

int stasis_prog__counters(const struct stasis_prog *p, uint64_t out[STASIS_CNT_MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(p->skel->maps.counters);

	if (ncpu < 0)
		return ncpu;
	uint64_t *vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < STASIS_CNT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;
			free(vals);
			return err;
		}
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int stasis_prog__pin(struct stasis_prog *p, const char *dir)
{
	char path[512];
	struct bpf_map *m;
	int err;

	bpf_object__for_each_map(m, p->skel->obj) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		if ((err = bpf_map__pin(m, path)))
			return seterr(err, "pinning %s: %s", path, strerror(-err));
	}
	snprintf(path, sizeof(path), "%s/tc", dir);
	if ((err = bpf_program__pin(p->skel->progs.stasis_tc_egress, path)))
		return seterr(err, "pinning %s: %s", path, strerror(-err));
	return 0;
}

const void *stasis_prog__elf(size_t *size)
{
	return stasis_skel__elf_bytes(size);
}
