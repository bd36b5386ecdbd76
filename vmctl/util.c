// SPDX-License-Identifier: MIT
/* Small helpers: the instances root, layer tags, qemu-img. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "vmctl/internal.h"

const char *vmctl__root(void)
{
	const char *r = getenv("STASIS_VM_ROOT");

	return r && *r ? r : "/var/lib/stasis/vm";
}

void layer_tag(char *buf, size_t len)
{
	snprintf(buf, len, "%lx-%llx", (unsigned long)time(NULL),
		 (unsigned long long)util_now_ns());
}

static const char *image_format(const char *file)
{
	unsigned char m[4] = { 0 };
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, m, 4) != 4)
			m[0] = 0;
		close(fd);
	}
	return m[0] == 'Q' && m[1] == 'F' && m[2] == 'I' && m[3] == 0xfb ? "qcow2" : "raw";
}

int qcow2_create(const char *file, const char *backing, long size_mib)
{
	char size[32], err[4200];
	const char *argv[12];
	int n = 0, st, pfd[2];
	pid_t pid;
	ssize_t got = 0;

	argv[n++] = "qemu-img";
	argv[n++] = "create";
	argv[n++] = "-q";
	argv[n++] = "-f";
	argv[n++] = "qcow2";
	if (backing) {
		argv[n++] = "-b";
		argv[n++] = backing;
		argv[n++] = "-F";
		argv[n++] = image_format(backing);
	}
	argv[n++] = file;
	if (!backing) {
		snprintf(size, sizeof(size), "%ldM", size_mib);
		argv[n++] = size;
	}
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vm_seterr(-errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return vm_seterr(-errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], (char **)argv);
		dprintf(2, "cannot run qemu-img: %s", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r = read(pfd[0], err + got, sizeof(err) - 1 - (size_t)got);

		if (r <= 0)
			break;
		got += r;
		if ((size_t)got >= sizeof(err) - 1)
			break;
	}
	err[got] = 0;
	close(pfd[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		for (char *s = err; *s; s++)
			if (*s == '\n')
				*s = ' ';
		return vm_seterr(-EIO, "qemu-img create %s failed: %s", file,
				 got ? err : "no message");
	}
	return 0;
}

json_t *argv_to_json(char **argv)
{
	json_t *a = json_array();

	for (int i = 0; argv && argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

char **argv_from_json(const json_t *a)
{
	size_t n = json_array_size(a);
	char **v = calloc(n + 1, sizeof(char *));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		v[i] = strdup(s ? s : "");
	}
	return v;
}

void argv_free(char **argv)
{
	for (int i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* ---- QEMU option lists ------------------------------------------------- */

const char *opt_get(const char *s, const char *key, size_t *len)
{
	size_t kl = strlen(key);

	for (const char *p = s; p;) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, ',');

			*len = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return NULL;
}

char *opt_set(const char *s, const char *key, const char *val)
{
	size_t len, vl = strlen(val);
	const char *v = opt_get(s, key, &len);
	char *r;

	if (!v)
		return NULL;
	r = malloc(strlen(s) - len + vl + 1);
	if (!r)
		return NULL;
	memcpy(r, s, (size_t)(v - s));
	memcpy(r + (v - s), val, vl);
	strcpy(r + (v - s) + vl, v + len);
	return r;
}

void opt_driver(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, ",");

	if (memchr(s, '=', n))
		n = 0;
	snprintf(buf, len, "%.*s", (int)n, s);
}

bool opt_on(const char *s, const char *key)
{
	size_t kl = strlen(key), len;
	const char *v;

	for (const char *p = s; p;) {
		if (!strncmp(p, key, kl) && (p[kl] == ',' || p[kl] == 0))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	v = opt_get(s, key, &len);
	return v && ((len == 2 && !strncmp(v, "on", 2)) || (len == 3 && !strncmp(v, "yes", 3)) ||
		     (len == 4 && !strncmp(v, "true", 4)));
}

/* @p, inside @s, starts a whole option value of @fl bytes: "=VALUE" then
 * ',' or the end, never the start of a longer name. */
static bool whole_value(const char *s, const char *p, size_t fl)
{
	return p > s && p[-1] == '=' && (p[fl] == 0 || p[fl] == ',');
}

bool arg_has_path(const char *s, const char *path)
{
	size_t pl = strlen(path);

	if (!pl)
		return false;
	if (!strcmp(s, path))
		return true;
	for (const char *p = s; (p = strstr(p, path)); p++)
		if (whole_value(s, p, pl))
			return true;
	return false;
}

char *replace_path(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0, sl = strlen(s);
	const char *p;
	char *r, *w;

	if (!fl)
		return NULL;
	if (!strcmp(s, from))
		return strdup(to);
	/* count, then copy */
	for (p = s; (p = strstr(p, from)); p++)	/* overlaps counted: more room, never less */
		if (whole_value(s, p, fl))
			n++;
	if (!n)
		return NULL;
	r = malloc(sl + n * tl + 1);
	if (!r)
		return NULL;
	for (w = r, p = s; *p;) {
		if (!strncmp(p, from, fl) && whole_value(s, p, fl)) {
			memcpy(w, to, tl);
			w += tl;
			p += fl;
		} else {
			*w++ = *p++;
		}
	}
	*w = 0;
	return r;
}

int mac_add(const char *mac, unsigned n, char *out, size_t len)
{
	unsigned b[6], low;
	int used = 0;

	if (!mac || strlen(mac) != 17 ||
	    sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &used) != 6 || used != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
			return -EINVAL;
	low = (((b[3] << 16) | (b[4] << 8) | b[5]) + n) & 0xffffff;
	snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], low >> 16,
		 (low >> 8) & 0xff, low & 0xff);
	return 0;
}

char *find_opt(char **argv, const char *opt, const char *drv, const char *match,
	       const char *mval, const char *key)
{
	for (int i = 1; argv[i] && argv[i + 1]; i++) {
		const char *v;
		char d[32];
		size_t l;

		if (strcmp(argv[i], opt))
			continue;
		opt_driver(argv[i + 1], d, sizeof(d));
		if (drv && strcmp(d, drv))
			continue;
		if (match) {
			v = opt_get(argv[i + 1], match, &l);
			if (!v || !mval || strlen(mval) != l || strncmp(v, mval, l))
				continue;
		}
		v = opt_get(argv[i + 1], key, &l);
		if (v)
			return strndup(v, l);
	}
	return NULL;
}
