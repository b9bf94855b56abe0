// SPDX-License-Identifier: Apache-2.0
// --network tap:NAME: the guest's card attached to a tap device that already exists (made by
// the user, a bridge setup or a CNI plugin, and left as it was found). clearvm opens one queue
// of it with a virtio-net header and no packet info: each read is one frame the host sends the
// guest, each write one frame from it, both behind the header the guest's driver uses, so the
// checksum and segmentation offloads the guest and the tap agree on pass through. vhost-net,
// where it can be opened, moves the frames in the host kernel. Which backend a run gets is
// decided here too.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../util.h"
#include "net.h"

int tap_open(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
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
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
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

static int tap_start(const struct vm_config *cfg, struct net_backend *b)
{
	b->fd = tap_open(cfg->tap);
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
