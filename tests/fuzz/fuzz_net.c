// SPDX-License-Identifier: Apache-2.0
// Fuzz target: virtio-net's queue handling (vmm/virtio/net.c) against rings the guest controls
// and a backend stream the backend controls. The input is both queues' state and the driver's
// features, then the bytes the backend sends (length-prefixed frames, or garbage), then the
// contents of a 64 KiB guest RAM. The device moves what it can both ways; nothing may touch
// memory outside RAM, and what reaches the backend must be well-framed. Bits of `mrg` choose
// the driver's features (1: mergeable buffers, 4: checksum offloads, 8: TSO) and the backend
// (2: a tap's, one frame behind its virtio-net header per datagram, played by a SEQPACKET
// socket).
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../vmm/virtio/devices.h"
#include "fuzz.h"

#define RAM (64u << 10)
#define MRG_RXBUF (1ULL << 15)
#define MAX_FRAME (65536 + 32) // net.c's: a 64 KiB IP packet behind an Ethernet (VLAN) header
#define CSUMS (3ULL) // VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM
#define TSOS (0x1980ULL) // VIRTIO_NET_F_GUEST_TSO4, _TSO6, HOST_TSO4, HOST_TSO6

struct state {
	uint64_t desc[2], avail[2], used[2];
	uint16_t size[2], last_avail[2], used_idx[2];
	uint8_t mrg, ready;
	uint16_t stream_len;
};

static void no_irq(void *ctx, unsigned irq)
{
	(void)ctx;
	(void)irq;
}

// What the device wrote to the backend: frames, each behind its 32-bit big-endian length, of
// 1..MAX_FRAME bytes; a tap's one per datagram behind a 12-byte header. Anything else is a bug
// of the device.
static void check_framing(int fd, bool tap)
{
	static uint8_t frame[1 << 17];
	ssize_t k;
	while (tap && (k = read(fd, frame, sizeof(frame))) >= 0)
		if (k <= 12 || k > 12 + MAX_FRAME)
			abort();
	if (tap)
		return;
	static uint8_t buf[1 << 20];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	for (size_t off = 0; off < len;) {
		if (len - off < 4)
			abort();
		uint32_t f = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
			     (uint32_t)buf[off + 2] << 8 | buf[off + 3];
		if (f == 0 || f > MAX_FRAME || len - off - 4 < f)
			abort();
		off += 4 + f;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st;
	if (size < sizeof(st))
		return 0;
	memcpy(&st, data, sizeof(st));
	data += sizeof(st);
	size -= sizeof(st);
	size_t stream = st.stream_len < size ? st.stream_len : size;
	int sv[2];
	bool tap = st.mrg & 2;
	if (socketpair(AF_UNIX, tap ? SOCK_SEQPACKET : SOCK_STREAM, 0, sv) < 0)
		return 0;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (stream && write(sv[1], data, stream) < 0 && errno != EAGAIN)
		abort();
	data += stream;
	size -= stream;
	uint8_t *ram = calloc(1, RAM); // exactly RAM bytes: ASan sees any access past it
	if (!ram)
		abort();
	memcpy(ram, data, size < RAM ? size : RAM);
	struct guest_mem mem = {ram, RAM};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct virtio_dev *dev;
	if (virtio_net_new(mac, sv[0], tap, -1, &dev) < 0)
		abort();
	dev->mem = &mem;
	dev->raise_irq = no_irq;
	dev->status = 0xf; // ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK
	dev->driver_features = (st.mrg & 1 ? MRG_RXBUF : 0) | (st.mrg & 4 ? CSUMS : 0) |
			      (st.mrg & 8 ? TSOS : 0);
	for (unsigned q = 0; q < 2; q++) {
		struct virtq *vq = &dev->vq[q];
		*vq = (struct virtq){.size = st.size[q],
				     .desc = st.desc[q],
				     .avail = st.avail[q],
				     .used = st.used[q],
				     .last_avail = st.last_avail[q],
				     .used_idx = st.used_idx[q]};
		vq->ready = (st.ready >> q & 1) && virtq_valid(vq, &mem);
	}
	for (int i = 0; i < 3; i++) {
		virtio_net_run(dev);
		check_framing(sv[1], tap);
	}
	short events;
	virtio_net_backend_fd(dev, &events);
	virtio_dev_free(dev);
	close(sv[0]);
	close(sv[1]);
	free(ram);
	return 0;
}
