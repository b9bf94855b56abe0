// SPDX-License-Identifier: Apache-2.0
// The virtio-console ports, found by the names the VMM gave them, woken by the kernel's
// uevents rather than a timer.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define PORT_WAIT_MS 5000

// The kernel's uevents (a netlink socket, no udev): a port appearing (add) or getting the name
// the VMM gave it (change) wakes the wait for it, rather than a timer.
static int uevents = -1;

// The /dev node of the port named `name`, opened; -1 with ENOENT while there is none yet.
static int find_port(const char *name, int flags)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[64] = {0};
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		if (!strcmp(buf, name)) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			closedir(d);
			return open(path, flags | O_CLOEXEC);
		}
	}
	if (d)
		closedir(d);
	errno = ENOENT;
	return -1;
}

// The /dev node of the virtio-console port the VMM named `name`, waiting (up to
// PORT_WAIT_MS) for the kernel to say it is there.
int open_port(const char *name, int flags)
{
	if (uevents < 0) {
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
		uevents = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
		if (uevents < 0 || bind(uevents, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			fail("the kernel's uevent socket");
	}
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += PORT_WAIT_MS / 1000;
	for (;;) {
		int fd = find_port(name, flags); // after the socket: no event can fall between
		if (fd >= 0 || errno != ENOENT)
			return fd;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		struct pollfd p = {.fd = uevents, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			break;
		char buf[4096];
		while (recv(uevents, buf, sizeof(buf), 0) > 0)
			; // which event it was does not matter: the ports are looked at again
	}
	errno = ENODEV;
	return -1;
}

void ports_found(void)
{
	close(uevents);
	uevents = -1;
}
