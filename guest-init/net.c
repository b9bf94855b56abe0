// SPDX-License-Identifier: Apache-2.0
// The guest's network: the loopback device, and eth0 (the virtio-net card) set up from the
// launch spec: MAC, MTU, addresses and default routes (IPv4, and IPv6 where passt offers it),
// with no DHCP, router advertisement or duplicate address detection to wait for at boot.
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

// eth0's IPv6 settings, before it comes up: no duplicate address detection (its addresses are
// the ones the host gave it, passt is the only other party on the link, and detection would
// hold each back for a second; its link-local address skips it too) and no router
// solicitations (passt sends no advertisements: the route comes from the spec). /proc is
// mounted for this alone (the container's own comes later).
static void eth0_ipv6_settings(void)
{
	static const char *const off[] = {"accept_dad", "accept_ra"};
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fail("eth0: mounting /proc for its IPv6 settings");
	bool done = true;
	for (size_t i = 0; i < ARRAY_LEN(off) && done; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/eth0/%s", off[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		done = fd >= 0 && write(fd, "0", 1) == 1;
		if (fd >= 0)
			close(fd);
	}
	int e = errno;
	umount("/proc");
	errno = e;
	if (!done)
		fail("eth0: its IPv6 settings in /proc/sys");
}

// The kernel's struct in6_ifreq, which the C library does not declare.
struct ifreq6 {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static void route6(int s, int ifindex, const uint8_t dst[16], unsigned dst_len, const uint8_t gw[16])
{
	struct in6_rtmsg rt = {.rtmsg_dst_len = (unsigned short)dst_len,
			       .rtmsg_flags = RTF_UP | (gw ? RTF_GATEWAY : 0),
			       .rtmsg_ifindex = ifindex};
	if (dst)
		memcpy(&rt.rtmsg_dst, dst, 16);
	if (gw)
		memcpy(&rt.rtmsg_gateway, gw, 16);
	if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		fail("eth0: an IPv6 route");
}

static bool same_prefix6(const uint8_t a[16], const uint8_t b[16], unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	return !memcmp(a, b, whole) &&
	       (!rest || ((a[whole] ^ b[whole]) & (uint8_t)(0xff00 >> rest)) == 0);
}

static void eth_up6(const struct launch_net *e)
{
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ifindex = (int)if_nametoindex("eth0");
	if (s < 0 || !ifindex)
		fail("eth0: an IPv6 socket");
	struct ifreq6 ifr = {.prefixlen = e->prefix6, .ifindex = ifindex};
	memcpy(&ifr.addr, e->address6, 16);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		fail("eth0: its IPv6 address");
	// The gateway is reached on the link: a link-local one always, another outside the
	// prefix through a route of its own.
	const uint8_t *gw = e->gateway6;
	if (!(gw[0] == 0xfe && (gw[1] & 0xc0) == 0x80) && !same_prefix6(gw, e->address6, e->prefix6))
		route6(s, ifindex, gw, 128, NULL);
	route6(s, ifindex, NULL, 0, gw);
	close(s);
}

void eth_up(const struct launch_net *e)
{
	if (e->v6)
		eth0_ipv6_settings();
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
	if (e->v4 && ioctl(s, SIOCSIFADDR, &ifr) < 0)
		fail("eth0: its address");
	ifr.ifr_netmask = in_addr(mask);
	if (e->v4 && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		fail("eth0: its netmask");
	// Up, it announces itself (arp_notify: ABI_KERNEL_ARGS).
	if (set_flags_up(s, "eth0") < 0)
		fail("eth0: bringing it up");
	// The gateway is reached on the link even when it lies outside the prefix (a /32). None
	// (0): the link's own subnet only.
	if (e->v4 && e->gateway && (e->gateway & mask) != (e->address & mask))
		route(s, e->gateway, 0xffffffffu, 0, RTF_HOST);
	if (e->v4 && e->gateway)
		route(s, 0, 0, e->gateway, RTF_GATEWAY);
	close(s);
	if (e->v6)
		eth_up6(e);
}
