// SPDX-License-Identifier: Apache-2.0
// --network tap:NAME: the guest's card attached to a tap device that already exists (made by
// the user, a bridge setup or a CNI plugin, and left as it was found). clearvm opens one queue
// of it, without a packet-info or virtio header: each read is one frame the host sends the
// guest, each write one frame from it. Which backend a run gets is decided here too.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
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
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
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

int net_backend_start(const struct vm_config *cfg, struct net_backend *b)
{
	b->pid = 0;
	b->fd = -1;
	switch (cfg->network) {
	case NETWORK_PASST: return passt_start(cfg, b);
	case NETWORK_TAP: b->fd = tap_open(cfg->tap); return b->fd < 0 ? b->fd : 0;
	case NETWORK_NONE: return 0;
	}
	return -EINVAL;
}
