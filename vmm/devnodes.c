// SPDX-License-Identifier: Apache-2.0
// Device nodes opened before the VMM loses access to them (devnodes.h).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "devnodes.h"
#include "util.h"

static struct devnode {
	const char *path;
	int flags;
	bool shared; // handed out as copies (one open serves every use)
	int fd;	     // -1: not opened early, or taken
} nodes[] = {
    {"/dev/kvm", O_RDWR | O_CLOEXEC, true, -1},
    {"/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK, false, -1},
    {"/dev/vhost-net", O_RDWR | O_CLOEXEC, false, -1},
};

void devnodes_preopen(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if (nodes[i].fd < 0)
			nodes[i].fd = open(nodes[i].path, nodes[i].flags);
}

int devnode_open(const char *path, int flags)
{
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		struct devnode *n = &nodes[i];
		if (n->fd < 0 || n->flags != flags || strcmp(n->path, path))
			continue;
		if (n->shared)
			return fcntl(n->fd, F_DUPFD_CLOEXEC, 0);
		int fd = n->fd;
		n->fd = -1;
		return fd;
	}
	return open(path, flags);
}

void devnodes_close(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if (nodes[i].fd >= 0) {
			close(nodes[i].fd);
			nodes[i].fd = -1;
		}
}
