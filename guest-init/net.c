// SPDX-License-Identifier: Apache-2.0
// The guest's network: the loopback device, and eth0 (the virtio-net card) set up from the
// launch spec: MAC, MTU, address and default route, with no DHCP round trip at boot.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

static int set_flags_up(int s, const char *name)
{
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

// Loopback networking, as docker's --net=none and rkt's pods have it: lo is up.
void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || set_flags_up(s, "lo") < 0)
		say("clearvm: guest-init: bringing up lo: %s", strerror(errno));
	if (s >= 0)
		close(s);
}

static struct sockaddr in_addr(uint32_t a)
{
	struct sockaddr sa;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(a)};
	memcpy(&sa, &sin, sizeof(sin));
	return sa;
}

static void route(int s, uint32_t dst, uint32_t mask, uint32_t gw, unsigned short flags)
{
	struct rtentry rt = {.rt_dst = in_addr(dst),
			     .rt_genmask = in_addr(mask),
			     .rt_gateway = in_addr(gw),
			     .rt_flags = (unsigned short)(RTF_UP | flags),
			     .rt_dev = (char *)"eth0"};
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		fail("eth0: a route");
}

void eth_up(const struct launch_net *e)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		fail("eth0: socket");
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "eth0");
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, e->mac, 6);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		fail("eth0: its MAC address (is there a network card?)");
	ifr.ifr_mtu = (int)e->mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		fail("eth0: its MTU");
	uint32_t mask = e->prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> e->prefix);
	ifr.ifr_addr = in_addr(e->address);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		fail("eth0: its address");
	ifr.ifr_netmask = in_addr(mask);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		fail("eth0: its netmask");
	// Up, it announces itself (arp_notify: ABI_KERNEL_ARGS).
	if (set_flags_up(s, "eth0") < 0)
		fail("eth0: bringing it up");
	// The gateway is reached on the link even when it lies outside the prefix (a /32). None
	// (0): the link's own subnet only.
	if (e->gateway && (e->gateway & mask) != (e->address & mask))
		route(s, e->gateway, 0xffffffffu, 0, RTF_HOST);
	if (e->gateway)
		route(s, 0, 0, e->gateway, RTF_GATEWAY);
	close(s);
}
