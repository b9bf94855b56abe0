// SPDX-License-Identifier: Apache-2.0
// The virtio devices clearvm plugs into virtio-mmio slots.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../p9/server.h"
#include "../sandbox/sandbox.h"
#include "mmio.h"

// A share: virtio-9p or virtio-fs serving `share` (a directory, or one file over 9p) under
// mount tag `tag`, from a thread of its own that is confined to the share when clearvm runs as
// root and then runs under the seccomp filter of the file server; a file or non-recursive
// share needs root. `owned`: the share is the guest's own (a root), changed only through it,
// so virtio-fs lets the guest cache names, attributes and pages (9p's caching is the mount's).
// share NULL: a slot with the tag but no share (a template's spare slots). Each request
// answered adds one to *requests (NULL: not counted). Errors are logged.
enum share_fs { SHARE_9P, SHARE_VIRTIOFS };
int virtio_share_new(enum share_fs fs, bool owned, const struct jail_share *share, const char *tag,
		     enum seccomp_mode seccomp, uint64_t *requests, struct virtio_dev **out);
// virtio-console with one port per fd in `fds` (multiport): what the guest writes to port i
// goes to fds[i] (-1: dropped). The guest finds the ports by name (/sys/class/virtio-ports/*/name).
int virtio_console_new(const int *fds, const char *const *names, unsigned nports,
		       struct virtio_dev **out);
// Queues host-to-guest bytes on a port; they go out as the guest posts receive buffers.
// Returns how many were taken (0 when the port's buffer is full), or -errno. When it took
// fewer than len, the wake eventfd (virtio_console_out_wake_fd) fires once the guest has taken
// some: the sender tries again then, never on a timer.
ssize_t virtio_console_send(struct virtio_dev *dev, unsigned port, const void *data, size_t len);
// The same for a message that must reach the guest whole: all len bytes, or 0 when the port's
// buffer lacks room for them (nothing taken), or -errno.
ssize_t virtio_console_send_whole(struct virtio_dev *dev, unsigned port, const void *data, size_t len);
// Closes the host end of a port: once its queued bytes are read, the guest reads EOF.
void virtio_console_close(struct virtio_dev *dev, unsigned port);
// Connects the host end of a closed port again, with nothing queued: the guest reads anew.
void virtio_console_reopen(struct virtio_dev *dev, unsigned port);
// Where the guest's writes to a port go from now on (-1: dropped).
void virtio_console_set_fd(struct virtio_dev *dev, unsigned port, int fd);
// A host fd feeding a port (stdin, an enter client's stdin): a chunk read from fd waits here
// until the port has taken it all, and only then is fd read again, so that a guest that reads
// slowly leaves the rest in fd (the writer blocks, as with a pipe) and the I/O thread polls fd
// only when virtio_console_pump_wants_input says so.
struct console_pump {
	uint8_t buf[16384];
	size_t len, off;
	bool open; // false once fd gave EOF or an error (the port then got its EOF)
};
// Moves what it can from fd (read only when `readable`) into the port. Returns p->open.
bool virtio_console_pump(struct virtio_dev *dev, unsigned port, int fd, struct console_pump *p, bool readable);
static inline bool virtio_console_pump_wants_input(const struct console_pump *p)
{
	return p->open && p->off == p->len;
}
// Output the host's readers have not taken yet, for the I/O thread: the eventfd that becomes
// readable when some is left waiting (or a port that was full has room again); the fds to poll for POLLOUT (at most max, the number
// returned); and, once one of them takes more, writing its output and taking the port's next
// chains.
int virtio_console_out_wake_fd(struct virtio_dev *dev);
struct pollfd;
unsigned virtio_console_out_pollfds(struct virtio_dev *dev, struct pollfd *fds, unsigned max);
void virtio_console_out_ready(struct virtio_dev *dev, int fd);
// virtio-balloon with free page reporting: the host memory behind pages the guest reports
// free is released (guest RAM is file mem_fd, offset = guest-physical address); the bytes
// released are added to *reported (may be NULL).
int virtio_balloon_new(int mem_fd, uint64_t *reported, struct virtio_dev **out);
// Asks the guest to hold `pages` 4 KiB pages in the balloon (0: none), by a configuration
// change; any thread. The host memory behind the pages it gives is freed as they come.
void virtio_balloon_set_target(struct virtio_dev *dev, uint32_t pages);
// virtio-net (net.c) with a MAC and a backend: a stream socket carrying each frame behind its
// 32-bit big-endian length (passt), a tap's queue opened with a 12-byte virtio header (`tap`:
// one frame with its header per read or write; the card then offers TSO), or -1 (a template's
// card: the guest's frames are dropped). Frames from a stream backend are marked checked for
// the guest (passt made them); a tap's carry the header the host's stack gave them. With a
// tap and `vhost` (an owned /dev/vhost-net, which stays the caller's), vhost-net serves the
// rings once the driver is ready. The I/O thread watches the kick eventfd (the guest posted
// buffers; with vhost: vhost asked to interrupt the guest) and the backend fd for the events
// virtio_net_backend_fd asks (-1: none now), then calls virtio_net_run, which returns -EPIPE
// once the backend has closed, broken the framing, or (a tap) been deleted.
int virtio_net_new(const uint8_t mac[6], int backend, bool tap, int vhost, struct virtio_dev **out);
int virtio_net_kick_fd(struct virtio_dev *dev);
int virtio_net_backend_fd(struct virtio_dev *dev, short *events);
int virtio_net_run(struct virtio_dev *dev);
// The checksum a guest left to the device (VIRTIO_NET_F_CSUM): the Internet checksum of the
// frame from `start` to its end, whose 16-bit field at start + off already holds the
// pseudo-header's sum, stored in that field. False (nothing written) when it lies outside.
bool virtio_net_finish_csum(uint8_t *frame, uint32_t len, uint16_t start, uint16_t off);
void virtio_dev_free(struct virtio_dev *dev);
