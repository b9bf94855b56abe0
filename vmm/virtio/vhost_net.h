// SPDX-License-Identifier: Apache-2.0
// vhost-net: virtio-net's rings served by the host kernel, straight to a tap, with no copy or
// wake-up of clearvm per frame. clearvm keeps the transport (virtio-mmio registers, config
// space, features) and tells vhost where the rings are once the driver is ready; the guest's
// notifies reach vhost through KVM ioeventfds, and vhost's "interrupt the guest" eventfd is
// relayed by the I/O thread, which sets the interrupt status a virtio-mmio driver reads.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

struct vhost_net {
	int fd;	     // /dev/vhost-net, owned: set up by vhost_net_open; -1: none
	int kick[2]; // per queue: signalled by KVM on the guest's notify, read by vhost
	int call;    // both queues: signalled by vhost, read by the I/O thread
	int link;    // netlink, told of the host's link changes: the tap's deletion is noticed
		     // there (the tap's own fd wakes no one when it goes)
	bool running;
};
#define VHOST_NET_NONE ((struct vhost_net){.fd = -1, .kick = {-1, -1}, .call = -1, .link = -1})

// The eventfds and link watch around a vhost fd the caller opened (and closes, after
// vhost_net_free): one made by tap_vhost_open (net/net.h). 0 or -errno.
int vhost_net_init(struct vhost_net *v, int fd);
// Hands both rings (receive 0, transmit 1), guest RAM and the negotiated features to vhost
// and attaches the tap (opened with a 12-byte virtio header). 0 or -errno (logged).
int vhost_net_start(struct vhost_net *v, int tap, const struct guest_mem *mem,
		    const struct virtq vq[2], uint64_t features);
// Whether a link changed since the last call (reads what the watch was told).
bool vhost_net_link_changed(struct vhost_net *v);
// Detaches the tap: vhost touches neither the rings nor guest RAM after it.
void vhost_net_stop(struct vhost_net *v);
void vhost_net_free(struct vhost_net *v);
