// SPDX-License-Identifier: MIT
/*
 * Attach and detach. TC egress through libbpf's TC API (clsact), XDP through
 * libxdp so stasis coexists with other XDP programs on the same device. The
 * first attach loads the object and pins its maps; later ones reuse them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "bpf/stasis_bpf.h"
#include "loader/internal.h"

struct target {
	const char *name;
	uint32_t ifindex;
	uint32_t role;
	bool tc_done, xdp_done, clsact_made;
};

/* Attaches the TC program; *made: whether the clsact qdisc was made for it. */
static int tc_attach(uint32_t ifindex, int prog_fd, bool *made)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = STASIS_TC_HANDLE, .priority = STASIS_TC_PRIO,
			    .prog_fd = prog_fd);
	int err = bpf_tc_hook_create(&hook);

	if (err && err != -EEXIST)
		return err;
	*made = !err;
	if ((err = bpf_tc_attach(&hook, &opts)) && *made) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

/* Detaches the TC program, and the clsact qdisc too when stasis made it and
 * no filter of anyone else has joined it since: the device is left as it
 * was found. */
static int tc_detach(uint32_t ifindex, bool made)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = STASIS_TC_HANDLE, .priority = STASIS_TC_PRIO);
	int err = bpf_tc_detach(&hook, &opts);

	if (!err && made && link_tc_filters(ifindex) == 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err;
}

/* libxdp loads its own copy of the object (as an extension of its
 * dispatcher); its maps are made to be ours, by fd, before it does. */
static int xdp_attach(const char *dir, uint32_t ifindex)
{
	size_t sz;
	const void *elf = stasis_prog__elf(&sz);
	struct bpf_object *obj = bpf_object__open_mem(elf, sz, NULL);
	struct xdp_program *xp;
	struct bpf_map *m;
	char path[512];
	int err;

	if (!obj)
		return -errno;
	bpf_object__for_each_map(m, obj) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			bpf_object__close(obj);
			return err;
		}
		err = bpf_map__reuse_fd(m, fd);
		close(fd);
		if (err) {
			bpf_object__close(obj);
			return err;
		}
	}
	/* Only the XDP program is needed from this copy. */
	bpf_program__set_autoload(bpf_object__find_program_by_name(obj, "stasis_tc_egress"), false);
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, .obj = obj, .prog_name = "stasis_xdp");
	xp = xdp_program__create(&xo);
	err = libxdp_get_error(xp);
	if (!err) {
		err = xdp_program__attach(xp, (int)ifindex, XDP_MODE_UNSPEC, 0);
		xdp_program__close(xp);
	}
	bpf_object__close(obj);
	return err;
}

static int xdp_detach(uint32_t ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	struct xdp_program *p = NULL;
	int err = -ENOENT;

	if (libxdp_get_error(mp))
		return -ENOENT;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), "stasis_xdp"))
			err = xdp_multiprog__detach(mp);
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp))) {
			if (strcmp(xdp_program__name(p), "stasis_xdp"))
				continue;
			err = xdp_program__detach(p, (int)ifindex, XDP_MODE_UNSPEC, 0);
			break;
		}
	}
	xdp_multiprog__close(mp);
	return err;
}

static void undo(struct target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].xdp_done)
			xdp_detach(t[i].ifindex);
		if (t[i].tc_done)
			tc_detach(t[i].ifindex, t[i].clsact_made);
	}
}

static void unpin_all(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

/* Pin folders of dead namespaces that had this namespace's inode number
 * (net-INO-COOKIE with another cookie): only one live namespace has a given
 * inode, so they are nobody's, and their 64 MiB rings are freed here. A
 * cookie-less net-INO (made before pins carried the cookie) is left alone:
 * it may be this very namespace's, holding frames. */
static void unpin_stale(const char *dir)
{
	const char *base = strrchr(dir, '/');
	const char *dash = base ? strchr(base + 5, '-') : NULL;
	char parent[256], path[512];
	size_t plen;
	struct dirent *e;
	DIR *d;

	if (!base || !dash)
		return;
	snprintf(parent, sizeof(parent), "%.*s", (int)(base - dir), dir);
	plen = (size_t)(dash - (base + 1));	/* "net-INO" */
	if (!(d = opendir(parent)))
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, base + 1, plen) && strcmp(e->d_name, base + 1) &&
		    e->d_name[plen] == '-') {
			snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
			unpin_all(path);
		}
	closedir(d);
}

int loader__attach(const struct loader_attach_opts *opts)
{
	char *err = loader_err();
	struct loader_attach_opts o;
	size_t n;
	struct target *t;
	char dir[256], path[512];
	bool fresh = false;
	int ret, tc_fd = -1, devs_fd = -1, stats_fd = -1;

	if (UTIL_OPTS_LOAD(o, opts)) {
		snprintf(err, LOADER_ERR_MAX, "loader_attach_opts: bad sz %zu", opts->sz);
		return -EINVAL;
	}
	n = o.n_taps + o.n_uplinks;
	if (!(t = calloc(n ? n : 1, sizeof(*t))))
		return -ENOMEM;
	if (!n) {
		snprintf(err, LOADER_ERR_MAX, "no device given");
		ret = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].name = i < o.n_taps ? o.taps[i] : o.uplinks[i - o.n_taps];
		t[i].role = i < o.n_taps ? STASIS_ROLE_TAP : STASIS_ROLE_UPLINK;
		if (link_by_name(t[i].name, &t[i].ifindex, NULL)) {
			snprintf(err, LOADER_ERR_MAX, "no device '%s' in this network namespace", t[i].name);
			ret = -ENODEV;
			goto out;
		}
		for (size_t k = 0; k < i; k++)
			if (t[k].ifindex == t[i].ifindex) {
				snprintf(err, LOADER_ERR_MAX, "device '%s' given twice", t[i].name);
				ret = -EINVAL;
				goto out;
			}
	}
	if ((ret = loader__pin_dir(dir, sizeof(dir)))) {
		snprintf(err, LOADER_ERR_MAX, "cannot reach a bpffs: %s", strerror(-ret));
		goto out;
	}
	unpin_stale(dir);
	snprintf(path, sizeof(path), "%s/tc", dir);
	tc_fd = bpf_obj_get(path);
	if (tc_fd < 0) {
		struct stasis_prog *p;

		unpin_all(dir);	/* leftovers of an interrupted attach */
		if (mkdir(dir, 0700) && errno != EEXIST) {
			ret = -errno;
			snprintf(err, LOADER_ERR_MAX, "%s: %s", dir, strerror(errno));
			goto out;
		}
		if ((ret = stasis_prog__load(&p, o.ring_bytes))) {
			snprintf(err, LOADER_ERR_MAX, "loading the BPF object failed: %s", stasis_bpf__errmsg());
			rmdir(dir);
			goto out;
		}
		ret = stasis_prog__pin(p, dir);
		stasis_prog__destroy(p);	/* the pins keep everything alive */
		if (ret) {
			snprintf(err, LOADER_ERR_MAX, "pinning under %s failed: %s", dir, strerror(-ret));
			unpin_all(dir);
			goto out;
		}
		fresh = true;
		tc_fd = bpf_obj_get(path);
	}
	snprintf(path, sizeof(path), "%s/devs", dir);
	devs_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/devstats", dir);
	stats_fd = bpf_obj_get(path);
	if (tc_fd < 0 || devs_fd < 0 || stats_fd < 0) {
		ret = -errno;
		snprintf(err, LOADER_ERR_MAX, "the pins under %s are incomplete: %s", dir, strerror(errno));
		goto out;
	}
	/* The devices are fixed while frames are held: drain writes the
	 * interface table first, replay sends only to attached devices. */
	if (!fresh) {
		struct stasis_host h = { 0 };
		uint32_t zero = 0;
		int host_fd;

		snprintf(path, sizeof(path), "%s/host", dir);
		host_fd = bpf_obj_get(path);
		if (host_fd < 0 || bpf_map_lookup_elem(host_fd, &zero, &h)) {
			ret = -errno;
			snprintf(err, LOADER_ERR_MAX, "cannot read the pinned state: %s", strerror(errno));
			if (host_fd >= 0)
				close(host_fd);
			goto out;
		}
		close(host_fd);
		if (h.state != STASIS_PASS) {
			snprintf(err, LOADER_ERR_MAX, "the host is not in pass: attach more devices "
				 "before a hold or after its replay");
			ret = -EBUSY;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct stasis_dev d;

		if (!bpf_map_lookup_elem(devs_fd, &t[i].ifindex, &d)) {
			snprintf(err, LOADER_ERR_MAX, "'%s' is already attached", t[i].name);
			ret = -EEXIST;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		ret = tc_attach(t[i].ifindex, tc_fd, &t[i].clsact_made);
		if (ret) {
			snprintf(err, LOADER_ERR_MAX, "%s: TC egress attach failed: %s%s", t[i].name,
				 strerror(-ret), ret == -EEXIST ? " (another filter holds stasis's handle)" : "");
			goto fail;
		}
		t[i].tc_done = true;
		if (t[i].role == STASIS_ROLE_TAP) {
			ret = xdp_attach(dir, t[i].ifindex);
			if (ret) {
				snprintf(err, LOADER_ERR_MAX, "%s: XDP attach failed: %s", t[i].name, strerror(-ret));
				goto fail;
			}
			t[i].xdp_done = true;
		}
	}
	int ncpu = libbpf_num_possible_cpus();
	struct stasis_dev_stats *zero = calloc(ncpu, sizeof(*zero));

	for (size_t i = 0; zero && i < n; i++) {
		struct stasis_dev d = {
			.role = t[i].role,
			.flags = (t[i].xdp_done ? STASIS_DEV_XDP : 0) |
				 (t[i].clsact_made ? STASIS_DEV_CLSACT : 0),
		};

		bpf_map_update_elem(stats_fd, &t[i].ifindex, zero, BPF_ANY);
		if (bpf_map_update_elem(devs_fd, &t[i].ifindex, &d, BPF_NOEXIST)) {
			ret = -errno;
			snprintf(err, LOADER_ERR_MAX, "recording %s: %s", t[i].name, strerror(errno));
			free(zero);
			goto fail;
		}
	}
	free(zero);
	ret = 0;
	goto out;
fail:
	undo(t, n);
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(devs_fd, &t[i].ifindex);
	if (fresh)
		unpin_all(dir);
out:
	if (tc_fd >= 0)
		close(tc_fd);
	if (devs_fd >= 0)
		close(devs_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	free(t);
	return ret;
}

int loader__detach(const char *const *names, size_t n, bool force)
{
	char *err;
	struct loader *l;
	struct stasis_host h;
	uint32_t key, next, *list = NULL;
	size_t count = 0, left = 0;
	uint64_t used = 0, size;
	int ret;

	if ((ret = loader__open(&l)))
		return ret;
	err = loader_err();
	/* Held frames live in the pinned ring and the devices' hooks decide
	 * where they go back: detaching now would lose them. */
	if (!force && ((ret = loader__host(l, &h)) || (ret = loader__ring_use(l, &used, &size)))) {
		snprintf(err, LOADER_ERR_MAX, "cannot read the pinned state: %s", strerror(-ret));
		loader__close(l);
		return ret;
	}
	if (!force && (h.state != STASIS_PASS || used)) {
		if (used)
			snprintf(err, LOADER_ERR_MAX, "%llu bytes of held frames are in the ring: drain "
				 "and replay them first, or detach --force to let them go",
				 (unsigned long long)used);
		else
			snprintf(err, LOADER_ERR_MAX, "the host is not in pass: release it first, or "
				 "detach --force");
		loader__close(l);
		return -EBUSY;
	}
	list = calloc(1024, sizeof(*list));
	if (!list) {
		loader__close(l);
		return -ENOMEM;
	}
	for (int r = bpf_map_get_next_key(l->devs, NULL, &next); !r && count < 1024;
	     r = bpf_map_get_next_key(l->devs, &key, &next)) {
		list[count++] = next;
		key = next;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t ifi;
		bool found = false;

		if (link_by_name(names[i], &ifi, NULL)) {
			snprintf(err, LOADER_ERR_MAX, "no device '%s' in this network namespace", names[i]);
			ret = -ENODEV;
			goto out;
		}
		for (size_t k = 0; k < count; k++)
			found = found || list[k] == ifi;
		if (!found) {
			snprintf(err, LOADER_ERR_MAX, "'%s' is not attached", names[i]);
			ret = -ENOENT;
			goto out;
		}
	}
	for (size_t k = 0; k < count; k++) {
		char name[IF_NAMESIZE];
		bool pick = n == 0;
		struct stasis_dev d = { 0 };

		for (size_t i = 0; !pick && i < n; i++) {
			uint32_t ifi;

			pick = !link_by_name(names[i], &ifi, NULL) && ifi == list[k];
		}
		if (!pick) {
			left++;
			continue;
		}
		bpf_map_lookup_elem(l->devs, &list[k], &d);
		/* A device that is gone took its hooks with it. */
		if (link_by_index(list[k], name, sizeof(name), NULL, NULL) == 0) {
			if (d.flags & STASIS_DEV_XDP)
				xdp_detach(list[k]);
			tc_detach(list[k], d.flags & STASIS_DEV_CLSACT);
		}
		bpf_map_delete_elem(l->devs, &list[k]);
		bpf_map_delete_elem(l->devstats, &list[k]);
	}
	if (!left)
		unpin_all(l->dir);
	ret = 0;
out:
	free(list);
	loader__close(l);
	return ret;
}
