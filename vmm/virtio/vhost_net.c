// SPDX-License-Identifier: Apache-2.0
// vhost-net set up for the rings the driver made (vhost_net.h). Guest RAM is one region from
// guest-physical 0, so the memory table has one entry; ring addresses were checked against it
// when the driver made the queues ready (virtq_valid).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util.h"
#include "vhost_net.h"

int vhost_net_init(struct vhost_net *v, int fd)
{
	*v = VHOST_NET_NONE;
	v->fd = fd;
	for (unsigned q = 0; q < 2; q++)
		v->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->link = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	if (v->kick[0] < 0 || v->kick[1] < 0 || v->call < 0 || v->link < 0 ||
	    bind(v->link, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		vhost_net_free(v);
		return -e;
	}
	return 0;
}

bool vhost_net_link_changed(struct vhost_net *v)
{
	static char buf[8192];
	bool changed = false;
	ssize_t r;
	// ENOBUFS: messages were lost, so something changed.
	while ((r = read(v->link, buf, sizeof(buf))) > 0 || (r < 0 && errno == ENOBUFS))
		changed = true;
	return changed;
}

static int ring(struct vhost_net *v, unsigned q, const struct guest_mem *mem,
		const struct virtq *vq)
{
	void *desc = gpa_ptr(mem, vq->desc, 16ULL * vq->size);
	void *avail = gpa_ptr(mem, vq->avail, 6 + 2ULL * vq->size);
	void *used = gpa_ptr(mem, vq->used, 6 + 8ULL * vq->size);
	if (!vq->ready || !desc || !avail || !used)
		return log_err(EINVAL, "vhost-net: queue %u is not ready", q);
	struct vhost_vring_state num = {.index = q, .num = vq->size};
	struct vhost_vring_state base = {.index = q, .num = vq->last_avail};
	struct vhost_vring_addr addr = {.index = q,
					.desc_user_addr = (uintptr_t)desc,
					.avail_user_addr = (uintptr_t)avail,
					.used_user_addr = (uintptr_t)used};
	struct vhost_vring_file kick = {.index = q, .fd = v->kick[q]};
	struct vhost_vring_file call = {.index = q, .fd = v->call};
	if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
	    ioctl(v->fd, VHOST_SET_VRING_CALL, &call) < 0)
		return log_err(errno, "vhost-net: queue %u", q);
	return 0;
}

int vhost_net_start(struct vhost_net *v, int tap, const struct guest_mem *mem,
		    const struct virtq vq[2], uint64_t features)
{
	uint64_t offered;
	if (ioctl(v->fd, VHOST_GET_FEATURES, &offered) < 0)
		return log_err(errno, "vhost-net: features");
	// vhost knows only the ring's and the header's features (VERSION_1, MRG_RXBUF); the
	// offloads are the tap's business.
	uint64_t f = features & offered;
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r;
	} table = {.m = {.nregions = 1},
		   .r = {.guest_phys_addr = 0,
			 .memory_size = mem->size,
			 .userspace_addr = (uintptr_t)mem->base}};
	if (ioctl(v->fd, VHOST_SET_FEATURES, &f) < 0 ||
	    ioctl(v->fd, VHOST_SET_MEM_TABLE, &table) < 0)
		return log_err(errno, "vhost-net: features and memory");
	for (unsigned q = 0; q < 2; q++) {
		int r = ring(v, q, mem, &vq[q]);
		if (r < 0)
			return r;
	}
	for (unsigned q = 0; q < 2; q++) {
		struct vhost_vring_file backend = {.index = q, .fd = tap};
		if (ioctl(v->fd, VHOST_NET_SET_BACKEND, &backend) < 0) {
			int e = errno;
			vhost_net_stop(v);
			return log_err(e, "vhost-net: attaching the tap");
		}
		v->running = true;
	}
	return 0;
}

void vhost_net_stop(struct vhost_net *v)
{
	for (unsigned q = 0; v->fd >= 0 && q < 2; q++) {
		struct vhost_vring_file backend = {.index = q, .fd = -1};
		if (ioctl(v->fd, VHOST_NET_SET_BACKEND, &backend) < 0)
			log_debug("vhost-net: detaching queue %u: %s", q, strerror(errno));
	}
	v->running = false;
}

void vhost_net_free(struct vhost_net *v)
{
	if (v->running)
		vhost_net_stop(v);
	for (unsigned q = 0; q < 2; q++)
		if (v->kick[q] >= 0)
			close(v->kick[q]);
	if (v->call >= 0)
		close(v->call);
	if (v->link >= 0)
		close(v->link);
	v->kick[0] = v->kick[1] = v->call = v->link = -1;
}
