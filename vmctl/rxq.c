// SPDX-License-Identifier: MIT
/*
 * A VM's receive queue in its tap: frames the host already transmitted
 * toward the guest but QEMU has not read yet. They are in neither the held
 * frames (they passed the hold) nor the VM's saved state (QEMU never read
 * them), and they die with the QEMU process a restore replaces. So between
 * the hold and the stop, the running VMs are given the time to read them.
 *
 * The queue is the tun file's ring, which only the file shows: each tap
 * file QEMU holds is duplicated with pidfd_getfd() (it names its device in
 * /proc/PID/fdinfo, "iff:") and polled; POLLIN means frames are waiting.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "vmctl/internal.h"

#define RXQ_MAX 64

struct rxq {
	int fd;
	bool paused;	/* its VM reads nothing: looked at, not waited for */
	char vm[40];
	char dev[32];
};

/* The device a file of @pid is a tap of ("" for any other file). */
static void fd_tap_name(pid_t pid, const char *fd, char *dev, size_t len)
{
	char path[320], line[256];
	FILE *f;

	dev[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, fd);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "iff:", 4)) {
			char *v = line + 4;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(dev, len, "%s", v);
			break;
		}
	fclose(f);
}

static bool wanted(const char *dev, const char *const *taps, int n)
{
	if (!taps)
		return true;
	for (int i = 0; i < n; i++)
		if (!strcmp(dev, taps[i]))
			return true;
	return false;
}

/* Whether the VM behind @q runs (a paused one reads no frame, and waiting
 * for it would only spend the whole timeout). */
static int vm_running(struct qmp *q, const char *vm, bool *running)
{
	json_t *st = NULL;
	int r = qmp__call(q, "query-status", NULL, &st);

	if (r)
		return vm_seterr(r, "VM %s: query-status: %s", vm, qmp_errmsg(q));
	*running = json_is_true(json_object_get(st, "running"));
	json_decref(st);
	return 0;
}

/* Duplicate the tap files of the QEMU behind @q into @qs. */
static int collect(struct qmp *q, const char *vm, const char *const *taps, int n_taps,
		   struct rxq *qs, int *n)
{
	pid_t pid = qmp__peer_pid(q);
	char path[64], dev[32];
	struct dirent *de;
	bool running = false;
	int pidfd, r;
	DIR *d;

	if ((r = vm_running(q, vm, &running)))
		return r;
	if (pid <= 0)
		return vm_seterr(-ESRCH, "VM %s: QEMU's pid is not known", vm);
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		return vm_seterr(-errno, "VM %s: pidfd_open: %s", vm, strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	if (!(d = opendir(path))) {
		r = vm_seterr(-errno, "VM %s: %s: %s", vm, path, strerror(errno));
		close(pidfd);
		return r;
	}
	while ((de = readdir(d)) && *n < RXQ_MAX) {
		if (de->d_name[0] == '.')
			continue;
		fd_tap_name(pid, de->d_name, dev, sizeof(dev));
		if (!dev[0] || !wanted(dev, taps, n_taps))
			continue;
		int fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);

		if (fd < 0) {
			r = vm_seterr(-errno, "VM %s: tap %s: pidfd_getfd: %s", vm, dev, strerror(errno));
			break;
		}
		qs[*n].fd = fd;
		qs[*n].paused = !running;
		snprintf(qs[*n].vm, sizeof(qs[*n].vm), "%s", vm);
		snprintf(qs[*n].dev, sizeof(qs[*n].dev), "%s", dev);
		(*n)++;
	}
	closedir(d);
	close(pidfd);
	return r;
}

/* How many of @qs still have frames waiting (POLLIN), those of paused VMs
 * only when @all. A file whose device is gone reports POLLERR: nothing can
 * wait in it. */
static int waiting(struct rxq *qs, int n, struct pollfd *p, bool all)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = qs[i].fd, .events = POLLIN };
	if (poll(p, (nfds_t)n, 0) < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		k += (all || !qs[i].paused) && (p[i].revents & POLLIN) &&
		     !(p[i].revents & (POLLERR | POLLHUP | POLLNVAL));
	return k;
}

int vm_group__settle_rx(struct vm_group *g, const char *const *taps, int n_taps, int timeout_ms,
			char *left, size_t leftlen)
{
	struct rxq qs[RXQ_MAX];
	struct pollfd p[RXQ_MAX];
	uint64_t deadline = util_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
	int n = 0, r = 0, k;

	if (left && leftlen)
		left[0] = 0;
	for (int i = 0; i < vm_group__size(g) && !r; i++)
		r = collect(vm_group__qmp(g, i), vm__name(vm_group__vm(g, i)), taps, n_taps, qs, &n);
	/* A frame in the ring is read by QEMU's main loop as soon as the
	 * guest has a buffer for it: a millisecond's sleep is many reads. */
	while (!r && (k = waiting(qs, n, p, false)) > 0 && util_now_ns() < deadline)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	if (!r && (k = waiting(qs, n, p, true)) < 0)
		r = vm_seterr(k, "poll: %s", strerror(-k));
	if (!r && k > 0) {
		size_t o = 0;

		for (int i = 0; i < n && left; i++)
			if ((p[i].revents & POLLIN) && o < leftlen)
				o += (size_t)snprintf(left + o, leftlen - o, "%s%s (VM %s%s)", o ? ", " : "",
						      qs[i].dev, qs[i].vm, qs[i].paused ? ", paused" : "");
		r = k;
	}
	for (int i = 0; i < n; i++)
		close(qs[i].fd);
	return r;
}
