// SPDX-License-Identifier: Apache-2.0
// --network tap:NAME: the guest's card attached to a tap device that already exists (made by
// the user, a bridge setup or a CNI plugin, and left as it was found), or, for an OCI
// container in a network namespace of its own, one clearvm makes there and bridges with the
// namespace's interface. clearvm opens one queue
// of it with a virtio-net header and no packet info: each read is one frame the host sends the
// guest, each write one frame from it, both behind the header the guest's driver uses, so the
// checksum and segmentation offloads the guest and the tap agree on pass through. vhost-net,
// where it can be opened, moves the frames in the host kernel. Which backend a run gets is
// decided here too.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../devnodes.h"
#include "../util.h"
#include "net.h"

int tap_open(const char *name)
{
	int fd = devnode_open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return log_err(errno, "network: tap %s: /dev/net/tun", name);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	int hdr = TAP_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		int e = errno;
		close(fd);
		if (e == EPERM)
			log_msg("network: tap %s: not permitted (root, or the tap's owner: ip tuntap "
				"add dev %s mode tap user UID)", name, name);
		else if (e == EBUSY)
			log_msg("network: tap %s: in use by another process", name);
		else if (e == EINVAL)
			log_msg("network: %s is not a tap device", name);
		else
			log_msg("network: tap %s: %s", name, strerror(e));
		return -e;
	}
	return fd;
}

int tap_vhost_open(void)
{
	int fd = devnode_open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t f = 0, need = 1ULL << 32 | 1ULL << 15; // VERSION_1, MRG_RXBUF
	int e = 0;
	if (ioctl(fd, VHOST_SET_OWNER) < 0 || ioctl(fd, VHOST_GET_FEATURES, &f) < 0)
		e = errno;
	else if ((f & need) != need)
		e = EOPNOTSUPP;
	if (e)
		close(fd);
	return e ? -e : fd;
}

// An ioctl on the interface `name` through s; -errno.
static int if_ioctl(int s, unsigned long req, const char *name, struct ifreq *ifr)
{
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	return ioctl(s, req, ifr) < 0 ? -errno : 0;
}

static int if_up(int s, const char *name)
{
	struct ifreq ifr = {0};
	int r = if_ioctl(s, SIOCGIFFLAGS, name, &ifr);
	ifr.ifr_flags |= IFF_UP;
	return r ?: if_ioctl(s, SIOCSIFFLAGS, name, &ifr);
}

// net.ipv4.conf.{all,NET_ATTACH_BRIDGE}.arp_ignore = 8 in this network namespace (its /proc/sys/net
// is the namespace's): no ARP reply from the namespace's own stack. -errno.
static int never_answer_arp(void)
{
	static const char *const paths[] = {"/proc/sys/net/ipv4/conf/all/arp_ignore",
					    "/proc/sys/net/ipv4/conf/" NET_ATTACH_BRIDGE "/arp_ignore"};
	int r = 0;
	for (int i = 0; i < 2 && r == 0; i++)
		r = write_setting(paths[i], "8");
	return r;
}

// The bridge clearvm makes in an OCI container's network namespace: `ifname` (the
// namespace's interface, a CNI veth) and `tap` (just made, clearvm's) are its ports, so the
// guest, with ifname's address, is on ifname's link: what reaches that address (a published
// port's DNAT) reaches the guest. The namespace is the container's; it goes with it.
static int bridge_attach(const char *ifname, const char *tap, unsigned mtu)
{
	_cleanup_close_ int s = socket(AF_LOCAL, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	if (s < 0)
		return log_err(errno, "network: a socket");
	int r = ioctl(s, SIOCBRADDBR, NET_ATTACH_BRIDGE) < 0 && errno != EEXIST ? -errno : 0;
	if (r < 0)
		return log_err(r, "network: making the bridge %s in the container's network namespace",
			       NET_ATTACH_BRIDGE);
	ifr.ifr_mtu = (int)mtu;
	if ((r = if_ioctl(s, SIOCSIFMTU, tap, &ifr)) < 0)
		return log_err(r, "network: the MTU of %s", tap);
	// The guest has ifname's MAC (the link's peers know the address by it); ifname another, or
	// frames for the guest would stop at the bridge as its own. A veth takes it while up, and
	// would announce the address under it where arp_notify is on (CNI's bridge turns it on):
	// turned off first, so the peers' neighbour entries keep the guest's MAC.
	char notify[80];
	snprintf(notify, sizeof(notify), "/proc/sys/net/ipv4/conf/%s/arp_notify", ifname);
	struct ifreq hw = {0};
	uint8_t mac[6];
	if ((r = write_setting(notify, "0")) == 0 && (r = net_random_mac(mac)) == 0) {
		hw.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(hw.ifr_hwaddr.sa_data, mac, sizeof(mac));
		r = if_ioctl(s, SIOCSIFHWADDR, ifname, &hw);
	}
	if (r < 0)
		return log_err(r, "network: a new MAC address for %s", ifname);
	// And the address is the guest's alone: the namespace's stack, which still has it (for the
	// next container in this namespace to find), answers no ARP for it.
	if ((r = never_answer_arp()) < 0)
		return log_err(r, "network: arp_ignore in the container's network namespace");
	const char *ports[] = {ifname, tap};
	for (int i = 0; i < 2; i++) {
		ifr.ifr_ifindex = (int)if_nametoindex(ports[i]);
		r = ifr.ifr_ifindex ? if_ioctl(s, SIOCBRADDIF, NET_ATTACH_BRIDGE, &ifr) : -ENODEV;
		// EBUSY: already a bridge's port (a create retried in the same namespace).
		if (r < 0 && !(r == -EBUSY && i == 0))
			return log_err(r, "network: %s into the bridge %s", ports[i], NET_ATTACH_BRIDGE);
	}
	if ((r = if_up(s, tap)) < 0 || (r = if_up(s, NET_ATTACH_BRIDGE)) < 0)
		return log_err(r, "network: bringing up %s and %s", tap, NET_ATTACH_BRIDGE);
	return 0;
}

static int tap_start(const struct vm_config *cfg, struct net_backend *b)
{
	b->fd = tap_open(cfg->tap);
	if (b->fd >= 0 && cfg->attach[0] && bridge_attach(cfg->attach, cfg->tap, cfg->net.mtu) < 0) {
		close(b->fd);
		b->fd = -1;
		return -EIO;
	}
	if (b->fd < 0 || cfg->vhost_net == VHOST_NET_OFF)
		return b->fd < 0 ? b->fd : 0;
	int r = tap_vhost_open();
	b->vhost = r < 0 ? -1 : r;
	if (r >= 0 || cfg->vhost_net == VHOST_NET_AUTO) {
		if (r < 0)
			log_debug("network: /dev/vhost-net: %s: clearvm moves the frames",
				  strerror(-r));
		return 0;
	}
	int e = -r;
	close(b->fd);
	b->fd = -1;
	return log_err(e, "network: --vhost-net on: /dev/vhost-net (modprobe vhost_net; root, or "
			  "access to it)");
}

int net_backend_start(const struct vm_config *cfg, struct net_backend *b)
{
	b->pid = 0;
	b->fd = b->vhost = -1;
	switch (cfg->network) {
	case NETWORK_PASST: return passt_start(cfg, b);
	case NETWORK_TAP: return tap_start(cfg, b);
	case NETWORK_NONE: return 0;
	}
	return -EINVAL;
}
