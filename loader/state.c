// SPDX-License-Identifier: MIT
/* The pinned state: host state and epoch, counters, devices, triggers and
 * trigger events, ring use. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "loader/internal.h"

static int get(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

static __thread char errmsg[LOADER_ERR_MAX];

const char *loader__errmsg(void) { return errmsg; }

char *loader_err(void)
{
	errmsg[0] = '\0';
	return errmsg;
}

int loader__open(struct loader **out)
{
	struct loader *l = calloc(1, sizeof(*l));
	char *err = loader_err();
	int ret;

	if (!l)
		return -ENOMEM;
	if ((ret = loader__pin_dir(l->dir, sizeof(l->dir)))) {
		snprintf(err, LOADER_ERR_MAX, "cannot reach a bpffs: %s", strerror(-ret));
		free(l);
		return ret;
	}
	l->host = get(l->dir, "host");
	if (l->host < 0) {
		ret = errno == ENOENT ? -ENOENT : -errno;
		snprintf(err, LOADER_ERR_MAX, ret == -ENOENT ?
			 "nothing is attached in this network namespace (stasis net attach DEV...)" :
			 "cannot open the pinned state: %s", strerror(-ret));
		free(l);
		return ret;
	}
	l->counters = get(l->dir, "counters");
	l->devstats = get(l->dir, "devstats");
	l->devs = get(l->dir, "devs");
	l->triggers = get(l->dir, "triggers");
	l->events = get(l->dir, "events");
	l->evring = get(l->dir, "evring");
	l->ring = get(l->dir, "ring");
	if (l->counters < 0 || l->devstats < 0 || l->devs < 0 || l->triggers < 0 ||
	    l->events < 0 || l->evring < 0 || l->ring < 0) {
		snprintf(err, LOADER_ERR_MAX, "the pins under %s are incomplete; "
			 "stasis net detach, then attach again", l->dir);
		loader__close(l);
		return -EBADF;
	}
	*out = l;
	return 0;
}

void loader__close(struct loader *l)
{
	if (!l)
		return;
	int *fds[] = { &l->host, &l->counters, &l->devstats, &l->devs, &l->triggers,
		       &l->events, &l->evring, &l->ring };

	ring_buffer__free(l->evrb);
	replay_free(l->replay);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] > 0)
			close(*fds[i]);
	free(l);
}

static __u64 *user_counter(struct stasis_host *h, uint32_t counter)
{
	switch (counter) {
	case STASIS_CNT_REPLAYED:	return &h->replayed;
	case STASIS_CNT_DISCARDED:	return &h->discarded;
	case STASIS_CNT_DROP_DRAIN:	return &h->drop_drain;
	}
	return NULL;
}

void counter_add(struct loader *l, uint32_t counter, uint64_t n)
{
	struct stasis_host *h = n ? host_map(l) : NULL;
	__u64 *c = h ? user_counter(h, counter) : NULL;

	if (c)
		__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
	host_unmap(h);
}

int loader__host(struct loader *l, struct stasis_host *h)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(l->host, &zero, h) ? -errno : 0;
}

int loader__peek_host(struct stasis_host *h)
{
	char dir[sizeof(((struct loader *)0)->dir)];
	uint32_t zero = 0;
	int fd, ret;

	if ((ret = loader__pin_dir(dir, sizeof(dir))))
		return ret;
	if ((fd = get(dir, "host")) < 0)
		return -errno;
	ret = bpf_map_lookup_elem(fd, &zero, h) ? -errno : 0;
	close(fd);
	return ret;
}

struct stasis_host *host_map(struct loader *l)
{
	void *h = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       l->host, 0);

	return h == MAP_FAILED ? NULL : h;
}

void host_unmap(struct stasis_host *h)
{
	if (h)
		munmap(h, (size_t)sysconf(_SC_PAGESIZE));
}

/* The programs update seq (fetch-and-add) and, on a trigger, state and
 * epoch: userspace stores only the fields it changes, through the mmapped
 * map, so it never writes back a stale seq. Epoch and hold time first, the
 * state last, so a program that sees the new state sees the new epoch. The
 * state goes in with its whole word: a new state starts with nothing
 * pending. */
int loader__set_state(struct loader *l, uint32_t state, uint64_t epoch)
{
	struct stasis_host *h = host_map(l);
	struct timespec ts;

	if (!h)
		return -errno;
	if (state == STASIS_HOLD && __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != STASIS_HOLD) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		__atomic_store_n(&h->hold_ns, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
				 __ATOMIC_RELAXED);
	}
	__atomic_store_n(&h->epoch, epoch, __ATOMIC_RELAXED);
	__atomic_store_n(&h->gate, (uint64_t)state, __ATOMIC_RELEASE);
	host_unmap(h);
	return 0;
}

const char *loader__state_name(uint32_t s)
{
	static const char *const names[] = { "pass", "hold", "replay", "replay-last" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static int percpu_sum(int fd, const void *key, uint64_t *out, size_t n_u64)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu * n_u64, sizeof(uint64_t));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	memset(out, 0, n_u64 * sizeof(uint64_t));
	for (int c = 0; c < ncpu; c++)
		for (size_t k = 0; k < n_u64; k++)
			out[k] += v[c * n_u64 + k];
	free(v);
	return 0;
}

int loader__counters(struct loader *l, uint64_t out[STASIS_CNT_MAX])
{
	struct stasis_host h;
	int err = loader__host(l, &h);

	for (uint32_t k = 0; !err && k < STASIS_CNT_MAX; k++) {
		__u64 *u = user_counter(&h, k);

		err = u ? (out[k] = *u, 0) : percpu_sum(l->counters, &k, &out[k], 1);
	}
	return err;
}

int loader__devs(struct loader *l, struct loader_dev *devs, size_t *n)
{
	uint32_t key = 0, next;
	size_t count = 0;
	int r;

	for (r = bpf_map_get_next_key(l->devs, NULL, &next); !r && count < *n;
	     r = bpf_map_get_next_key(l->devs, &key, &next)) {
		struct loader_dev *d = &devs[count];
		struct stasis_dev sd;

		key = next;
		if (bpf_map_lookup_elem(l->devs, &key, &sd))
			continue;
		memset(d, 0, sizeof(*d));
		d->ifindex = key;
		d->role = sd.role;
		d->xdp = !!(sd.flags & STASIS_DEV_XDP);
		if (link_by_index(key, d->name, sizeof(d->name), d->mac, &d->tx_dropped))
			snprintf(d->name, sizeof(d->name), "(gone, ifindex %u)", key);
		percpu_sum(l->devstats, &key, (uint64_t *)&d->stats,
			   sizeof(d->stats) / sizeof(uint64_t));
		count++;
	}
	*n = count;
	return 0;
}

int loader__dev_index(struct loader *l, const char *name, uint32_t *ifindex)
{
	struct stasis_dev sd;
	uint32_t i;

	if (link_by_name(name, &i, NULL))
		return -ENODEV;
	if (bpf_map_lookup_elem(l->devs, &i, &sd))
		return -ENOENT;
	*ifindex = i;
	return 0;
}

void loader__dev_name(uint32_t ifindex, char *name, size_t len)
{
	if (link_by_index(ifindex, name, len, NULL, NULL))
		snprintf(name, len, "ifindex %u", ifindex);
}

int loader__ring_use(struct loader *l, uint64_t *used, uint64_t *size)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;

	if (bpf_obj_get_info_by_fd(l->ring, &info, &len))
		return -errno;
	*size = info.max_entries;
	/* The consumer position is on the first page, the producer's on the
	 * second: both readable by mmap. */
	cons = mmap(NULL, page, PROT_READ, MAP_SHARED, l->ring, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, l->ring, page);
	if (prod == MAP_FAILED) {
		munmap(cons, page);
		return -errno;
	}
	*used = __atomic_load_n((uint64_t *)prod, __ATOMIC_ACQUIRE) -
		__atomic_load_n((uint64_t *)cons, __ATOMIC_ACQUIRE);
	munmap(cons, page);
	munmap(prod, page);
	return 0;
}

int loader__trigger_add(struct loader *l, const struct stasis_trigger *t)
{
	for (uint32_t id = 0; id < STASIS_MAX_TRIGGERS; id++) {
		struct stasis_trigger cur;

		if (bpf_map_lookup_elem(l->triggers, &id, &cur))
			return -errno;
		if (cur.active || cur.len)	/* a used slot (fired once-triggers stay listed) */
			continue;
		struct stasis_trigger n = *t;

		n.active = 1;
		n.hits = 0;
		return bpf_map_update_elem(l->triggers, &id, &n, BPF_ANY) ? -errno : (int)id;
	}
	return -ENOSPC;
}

int loader__trigger_get(struct loader *l, uint32_t id, struct stasis_trigger *t)
{
	if (id >= STASIS_MAX_TRIGGERS)
		return -ENOENT;
	if (bpf_map_lookup_elem(l->triggers, &id, t))
		return -errno;
	return t->len ? 0 : -ENOENT;
}

int loader__trigger_del(struct loader *l, uint32_t id)
{
	struct stasis_trigger t;
	int err = loader__trigger_get(l, id, &t);

	if (err)
		return err;
	memset(&t, 0, sizeof(t));
	return bpf_map_update_elem(l->triggers, &id, &t, BPF_ANY) ? -errno : 0;
}

static int ev_cb(void *ctx, void *data, size_t size)
{
	(void)ctx; (void)data; (void)size;
	return 0;	/* only a wake-up: the event itself is in the queue */
}

int loader__event_fd(struct loader *l)
{
	if (!l->evrb && !(l->evrb = ring_buffer__new(l->evring, ev_cb, NULL, NULL)))
		return -errno;
	return ring_buffer__epoll_fd(l->evrb);
}

int loader__wait_event(struct loader *l, int timeout_ms, struct stasis_event *ev)
{
	struct timespec t0, t1;
	int ret;

	if (!bpf_map_lookup_and_delete_elem(l->events, NULL, ev))
		return 1;
	/* Kept with the loader: a caller that waits in a loop (the agent)
	 * does not set up an epoll and two mappings each time. */
	if (!l->evrb && !(l->evrb = ring_buffer__new(l->evring, ev_cb, NULL, NULL)))
		return -errno;
	struct ring_buffer *rb = l->evrb;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left = timeout_ms;

		ring_buffer__consume(rb);
		if (!bpf_map_lookup_and_delete_elem(l->events, NULL, ev)) {
			ret = 1;
			break;
		}
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
						  (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0) {
				ret = 0;
				break;
			}
		}
		ret = ring_buffer__poll(rb, left);
		if (ret < 0 && ret != -EINTR)
			break;
	}
	return ret;
}

int64_t loader__real_offset(void)
{
	struct timespec m, r;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000ll + (r.tv_nsec - m.tv_nsec);
}

uint64_t loader__ktime_to_real(uint64_t ktime_ns)
{
	return (uint64_t)((int64_t)ktime_ns + loader__real_offset());
}
