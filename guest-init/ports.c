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

// Opens, in one look at the ports there are, each of the n ports named names[i] that is not
// open yet (fds[i] < 0) with flags[i]; returns how many are still missing, or -1 (errno) when
// one that is there cannot be opened.
static int find_ports(const char *const *names, const int *flags, int *fds, unsigned n)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[64] = {0};
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len > 0 && buf[len - 1] == '\n')
			buf[len - 1] = '\0';
		for (unsigned i = 0; i < n; i++) {
			if (fds[i] >= 0 || strcmp(buf, names[i]))
				continue;
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			if ((fds[i] = open(path, flags[i] | O_CLOEXEC)) < 0) {
				closedir(d);
				return -1;
			}
		}
	}
	if (d)
		closedir(d);
	int missing = 0;
	for (unsigned i = 0; i < n; i++)
		missing += fds[i] < 0;
	return missing;
}

int open_ports(const char *const *names, const int *flags, int *fds, unsigned n)
{
	if (uevents < 0) {
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
		uevents = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
		if (uevents < 0 || bind(uevents, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			fail("the kernel's uevent socket");
	}
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += PORT_WAIT_MS / 1000;
	for (;;) {
		int missing = find_ports(names, flags, fds, n); // after the socket: no event can fall between
		if (missing <= 0)
			return missing;
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

int open_port(const char *name, int flags)
{
	int fd;
	return open_ports(&name, &flags, &fd, 1) < 0 ? -1 : fd;
}

void ports_found(void)
{
	close(uevents);
	uevents = -1;
}
