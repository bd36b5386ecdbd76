// SPDX-License-Identifier: MIT
/* Link lookup and statistics through libnl-route-3. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/classifier.h>
#include <linux/pkt_sched.h>
#include "loader/internal.h"

static struct nl_sock *nl_open(void)
{
	struct nl_sock *s = nl_socket_alloc();

	if (s && nl_connect(s, NETLINK_ROUTE)) {
		nl_socket_free(s);
		return NULL;
	}
	return s;
}

static void fill(struct rtnl_link *link, uint8_t mac[6])
{
	struct nl_addr *a = rtnl_link_get_addr(link);

	memset(mac, 0, 6);
	if (a && nl_addr_get_len(a) == 6)
		memcpy(mac, nl_addr_get_binary_addr(a), 6);
}

int link_by_name(const char *name, uint32_t *ifindex, uint8_t mac[6])
{
	struct nl_sock *s = nl_open();
	struct rtnl_link *link = NULL;
	int err;

	if (!s)
		return -ENOMEM;
	err = rtnl_link_get_kernel(s, 0, name, &link);
	if (!err) {
		*ifindex = (uint32_t)rtnl_link_get_ifindex(link);
		if (mac)
			fill(link, mac);
		rtnl_link_put(link);
	}
	nl_socket_free(s);
	return err ? -ENODEV : 0;
}

int link_by_index(uint32_t ifindex, char *name, size_t len, uint8_t mac[6], uint64_t *tx_dropped)
{
	struct nl_sock *s = nl_open();
	struct rtnl_link *link = NULL;
	int err;

	if (!s)
		return -ENOMEM;
	err = rtnl_link_get_kernel(s, (int)ifindex, NULL, &link);
	if (!err) {
		if (name)
			snprintf(name, len, "%s", rtnl_link_get_name(link));
		if (mac)
			fill(link, mac);
		if (tx_dropped)
			*tx_dropped = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
		rtnl_link_put(link);
	}
	nl_socket_free(s);
	return err ? -ENODEV : 0;
}

int link_info(uint32_t ifindex, struct link_info *li)
{
	struct nl_sock *s = nl_open();
	struct rtnl_link *link = NULL;
	int err;

	memset(li, 0, sizeof(*li));
	li->mtu = 1500;
	if (!s)
		return -ENOMEM;
	err = rtnl_link_get_kernel(s, (int)ifindex, NULL, &link);
	if (!err) {
		const char *kind = rtnl_link_get_type(link);

		snprintf(li->name, sizeof(li->name), "%s", rtnl_link_get_name(link));
		li->mtu = rtnl_link_get_mtu(link);
		li->tx_dropped = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
		li->tun = kind && !strcmp(kind, "tun");
		rtnl_link_put(link);
	}
	nl_socket_free(s);
	return err ? -ENODEV : 0;
}

int link_tc_filters(uint32_t ifindex)
{
	static const uint32_t parents[] = {
		TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
	};
	struct nl_sock *s = nl_open();
	int n = 0;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		struct nl_cache *c = NULL;

		if (rtnl_cls_alloc_cache(s, (int)ifindex, parents[i], &c)) {
			nl_socket_free(s);
			return -EIO;
		}
		n += nl_cache_nitems(c);
		nl_cache_free(c);
	}
	nl_socket_free(s);
	return n;
}
