// SPDX-License-Identifier: Apache-2.0
// virtio-net (virtio 1.2, 5.1): one receive and one transmit queue, a MAC in config space, and
// mergeable receive buffers so that a 64 KiB frame (passt's MTU, a tap's TSO) fits buffers of
// any size. Three data paths:
// - a stream socket carrying each frame behind its 32-bit big-endian length (passt's and
//   QEMU's stream netdev format);
// - a tap opened with a virtio header: each read or write is one frame behind the same 12-byte
//   header the guest uses, so checksum and segmentation offloads pass through to the host's
//   stack untouched;
// - that tap served by vhost-net (vhost_net.c): the rings are the host kernel's, this file
//   only starts and stops it and relays its interrupts.
// The first two run on the I/O thread: the guest's notifies only wake it (an ioeventfd), it
// moves frames in batches through two buffers, and when the backend is slow the device stops
// taking transmit chains, so the guest waits, never a vCPU. A malformed chain is returned
// unused; a backend that breaks the framing is cut off.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devices.h"
#include "vhost_net.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_CSUM (1ULL << 0)	    // the guest may leave a transmitted L4 checksum to us
#define VIRTIO_NET_F_GUEST_CSUM (1ULL << 1) // received frames may be marked as checked
#define VIRTIO_NET_F_MAC (1ULL << 5)
#define VIRTIO_NET_F_GUEST_TSO4 (1ULL << 7) // a tap's: the host may send 64 KiB TCP segments
#define VIRTIO_NET_F_GUEST_TSO6 (1ULL << 8)
#define VIRTIO_NET_F_HOST_TSO4 (1ULL << 11) // a tap's: the guest may send them
#define VIRTIO_NET_F_HOST_TSO6 (1ULL << 12)
#define VIRTIO_NET_F_MRG_RXBUF (1ULL << 15)
#define STREAM_FEATURES                                                                            \
	(VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_MAC | VIRTIO_NET_F_MRG_RXBUF)
#define TAP_FEATURES                                                                               \
	(STREAM_FEATURES | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 |                     \
	 VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6)
#define RXQ 0
#define TXQ 1
#define NET_HDR                                                                                    \
	12		   // struct virtio_net_hdr_v1: flags, gso_type, hdr_len, gso_size,
			   // csum_start, csum_offset, num_buffers
#define CSUM_START_OFF 6	   // csum_start in it, csum_offset after it (little endian)
#define NUM_BUFFERS_OFF 10 // num_buffers in it
#define HDR_F_NEEDS_CSUM 1 // flags: sum from csum_start to the end, store at +csum_offset
#define HDR_F_DATA_VALID 2 // flags: the frame's checksums need no checking
#define HDR_GSO_TCPV4 1	   // gso_type: a TCP segment to be cut at gso_size
#define HDR_GSO_TCPV6 4
#define MAX_FRAME (65536 + 32) // a 64 KiB IP packet behind an Ethernet (and VLAN) header
// Each direction's buffer: a batch of frames (a tap's with their header).
#define STREAM_CAP (8 * (4 + NET_HDR + MAX_FRAME))
#define ELEM_MAX (4 + NET_HDR + MAX_FRAME) // the room one more frame needs in it
#define MAX_MERGE 64			   // receive buffers one frame may take

struct virtio_net {
	struct virtio_dev dev;
	uint8_t mac[6];
	int backend; // -1: none (a template's card): what the guest sends is dropped
	bool tap;    // the backend is a tap: a frame behind its header per read or write
	int kick;    // the guest's notifies (ioeventfd), read by the I/O thread; -1 with vhost
	struct vhost_net vhost; // vhost.fd -1: frames move through the buffers below
	bool gone;   // the backend closed or broke the framing
	// To the backend: length-prefixed frames (a tap's with their header), written from
	// `out_off`.
	uint8_t *out;
	size_t out_len, out_off;
	// From the backend: bytes read, frames not yet given to the guest.
	uint8_t *in;
	size_t in_len;
	struct virtq_chain chain; // the one being filled (large: here, not on the stack)
	struct virtq_chain first; // a merged frame's first chain, whose header gets num_buffers
};

static void net_notify(struct virtio_dev *dev, unsigned q)
{
	// No ioeventfd: the notify came as an MMIO exit; the I/O thread (or vhost) does the work.
	struct virtio_net *n = dev->priv;
	uint64_t one = 1;
	if (write(n->vhost.fd >= 0 ? n->vhost.kick[q] : n->kick, &one, sizeof(one)) < 0)
		log_debug("virtio-net kick: %s", strerror(errno));
}

// The driver is ready (or a template's driver was): a tap sends the guest only the offloads it
// took, and vhost gets the rings.
static void net_start(struct virtio_dev *dev)
{
	struct virtio_net *n = dev->priv;
	if (!n->tap || n->backend < 0)
		return;
	uint64_t f = dev->driver_features;
	unsigned off = 0;
	if (f & VIRTIO_NET_F_GUEST_CSUM) {
		off |= TUN_F_CSUM;
		if (f & VIRTIO_NET_F_GUEST_TSO4)
			off |= TUN_F_TSO4;
		if (f & VIRTIO_NET_F_GUEST_TSO6)
			off |= TUN_F_TSO6;
	}
	if (ioctl(n->backend, TUNSETOFFLOAD, (unsigned long)off) < 0)
		log_debug("virtio-net: tap offloads: %s", strerror(errno));
	if (n->vhost.fd >= 0 && !n->vhost.running &&
	    vhost_net_start(&n->vhost, n->backend, dev->mem, dev->vq, f) < 0)
		virtio_needs_reset(dev, "vhost-net");
}

static int net_restore(struct virtio_dev *dev, const uint8_t *buf, size_t len)
{
	(void)buf;
	if (len)
		return -EINVAL;
	if (virtio_driver_ok(dev))
		net_start(dev);
	return 0;
}

static void net_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len,
		       bool write)
{
	struct virtio_net *n = dev->priv;
	uint8_t cfg[8] = {0}; // mac[6], status (not offered)
	memcpy(cfg, n->mac, sizeof(n->mac));
	if (write)
		return;
	memset(data, 0, len);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, MIN(len, sizeof(cfg) - off));
}

static void net_reset(struct virtio_dev *dev)
{
	// Frames already taken stay queued for the backend; those for the guest wait. vhost lets
	// go of the rings.
	struct virtio_net *n = dev->priv;
	if (n->vhost.running)
		vhost_net_stop(&n->vhost);
}

static void net_destroy(struct virtio_dev *dev)
{
	struct virtio_net *n = dev->priv;
	vhost_net_free(&n->vhost);
	if (n->kick >= 0)
		close(n->kick);
	free(n->out);
	free(n->in);
}

static const struct virtio_dev_ops net_ops = {.notify = net_notify,
					     .config = net_config,
					     .driver_ok = net_start,
					     .reset = net_reset,
					     .destroy = net_destroy,
					     .restore = net_restore};

int virtio_net_new(const uint8_t mac[6], int backend, bool tap, int vhost, struct virtio_dev **out)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->backend = backend;
	n->tap = tap;
	memcpy(n->mac, mac, sizeof(n->mac));
	n->kick = -1;
	n->vhost = VHOST_NET_NONE;
	virtio_dev_init(&n->dev, VIRTIO_ID_NET, tap ? TAP_FEATURES : STREAM_FEATURES, 2, &net_ops, n);
	int r = 0;
	if (tap && vhost >= 0 && backend >= 0) {
		r = vhost_net_init(&n->vhost, vhost);
		n->dev.queue_notify_fds = n->vhost.kick; // one per queue: vhost reads them
		n->dev.irqfd = n->vhost.call;		 // and KVM interrupts the guest for it
	} else {
		n->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		n->out = malloc(STREAM_CAP);
		n->in = malloc(STREAM_CAP);
		r = n->kick < 0 || !n->out || !n->in ? -ENOMEM : 0;
		n->dev.notify_fd = n->kick;
	}
	if (r < 0) {
		virtio_dev_free(&n->dev);
		return r;
	}
	*out = &n->dev;
	return 0;
}

static bool queue_ok(struct virtio_net *n, unsigned q)
{
	return virtio_driver_ok(&n->dev) && n->dev.vq[q].ready;
}

// Copies len bytes between buf and the buffers iov[0..n), from byte `at` of theirs on: into them
// (to_iov) or out of them.
static void iov_copy(const struct iovec *iov, unsigned n, size_t at, uint8_t *buf, size_t len,
		     bool to_iov)
{
	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;
		if (at >= l) {
			at -= l;
			continue;
		}
		size_t k = MIN(l - at, len);
		uint8_t *p = (uint8_t *)iov[i].iov_base + at;
		memcpy(to_iov ? p : buf, to_iov ? buf : p, k);
		buf += k;
		len -= k;
		at = 0;
	}
}

static void copy_into(const struct virtq_chain *c, size_t at, const uint8_t *src, size_t len)
{
	iov_copy(c->in, c->nin, at, (uint8_t *)src, len, true);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

// A frame's length in the stream: 32 bits, big-endian.
static uint32_t get_len(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_len(uint8_t *p, uint32_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
}

bool virtio_net_finish_csum(uint8_t *frame, uint32_t flen, uint16_t start, uint16_t off)
{
	if ((uint32_t)start + off + 2 > flen)
		return false;
	uint64_t sum = 0;
	uint32_t i = start;
	for (; i + 1 < flen; i += 2)
		sum += (uint32_t)frame[i] << 8 | frame[i + 1];
	if (i < flen)
		sum += (uint32_t)frame[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t c = (uint16_t)~sum;
	frame[start + off] = (uint8_t)(c >> 8);
	frame[start + off + 1] = (uint8_t)c;
	return true;
}

// Transmit chains into `out`, while it has room for one more frame of the largest size: a
// tap's with the guest's header (the tap does what it asks), a stream's without it, its
// checksum finished here when the guest left it. Returns whether any chain was used.
static bool take_tx(struct virtio_net *n)
{
	struct virtio_dev *dev = &n->dev;
	struct virtq_chain *c = &n->chain;
	bool used = false;
	while (queue_ok(n, TXQ) && STREAM_CAP - n->out_len >= ELEM_MAX) {
		int r = virtq_pop(&dev->vq[TXQ], dev->mem, c);
		if (r < 0) {
			virtio_needs_reset(dev, "transmit queue");
			break;
		}
		if (r == 0)
			break;
		used = true;
		uint64_t len = c->out_len;
		uint8_t *p = n->out + n->out_len;
		if (len <= NET_HDR || len - NET_HDR > MAX_FRAME || n->backend < 0) {
			// too short, too long, or no backend: dropped, as a cable would
		} else if (n->tap) {
			put_len(p, (uint32_t)len);
			iov_copy(c->out, c->nout, 0, p + 4, len, false);
			n->out_len += 4 + len;
		} else {
			uint32_t flen = (uint32_t)(len - NET_HDR);
			put_len(p, flen);
			uint8_t hdr[NET_HDR];
			iov_copy(c->out, c->nout, 0, hdr, sizeof(hdr), false);
			iov_copy(c->out, c->nout, NET_HDR, p + 4, flen, false);
			if (!(hdr[0] & HDR_F_NEEDS_CSUM) ||
			    virtio_net_finish_csum(p + 4, flen, le16(hdr + CSUM_START_OFF),
					le16(hdr + CSUM_START_OFF + 2)))
				n->out_len += 4 + flen;
		}
		virtq_push(&dev->vq[TXQ], dev->mem, c->head, 0);
	}
	return used;
}

// A tap takes one frame per write; one it refuses (its link down, the host out of buffers, a
// header it finds invalid) is dropped, as a full wire would.
static void flush_tap(struct virtio_net *n)
{
	while (n->out_len - n->out_off >= 4) {
		const uint8_t *p = n->out + n->out_off;
		uint32_t flen = get_len(p);
		ssize_t w = write(n->backend, p + 4, flen);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0 && errno != EIO && errno != ENOBUFS && errno != ENOMEM && errno != EINVAL) {
			log_debug("virtio-net: tap write: %s", strerror(errno));
			n->gone = true;
			break;
		}
		n->out_off += 4 + flen;
	}
}

// A stream takes bytes, as many as it will.
static void flush_stream(struct virtio_net *n)
{
	while (n->out_off < n->out_len) {
		ssize_t w = write(n->backend, n->out + n->out_off, n->out_len - n->out_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			log_debug("virtio-net: backend write: %s",
				  w < 0 ? strerror(errno) : "closed");
			n->gone = true;
			break;
		}
		n->out_off += (size_t)w;
	}
}

// Writes what `out` holds to the backend, as far as it takes it now.
static void flush_out(struct virtio_net *n)
{
	if (n->gone)
		return;
	if (n->tap)
		flush_tap(n);
	else
		flush_stream(n);
	if (n->out_off == n->out_len) {
		n->out_off = n->out_len = 0;
	} else if (n->out_off > STREAM_CAP / 2) {
		memmove(n->out, n->out + n->out_off, n->out_len - n->out_off);
		n->out_len -= n->out_off;
		n->out_off = 0;
	}
}

// The header the guest gets with a frame: a tap's own (what the host's stack left to do or
// checked), else "checked" for passt's frames (passt made them, checksums and all). False: the
// tap's asks for an offload the driver did not take (the frame is dropped).
static bool rx_header(const struct virtio_net *n, const uint8_t *tap_hdr, uint8_t hdr[NET_HDR])
{
	uint64_t f = n->dev.driver_features;
	memset(hdr, 0, NET_HDR);
	if (!tap_hdr) {
		if (f & VIRTIO_NET_F_GUEST_CSUM)
			hdr[0] = HDR_F_DATA_VALID;
		return true;
	}
	memcpy(hdr, tap_hdr, NUM_BUFFERS_OFF);
	unsigned gso = hdr[1];
	if (hdr[0] && !(f & VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if (gso == HDR_GSO_TCPV4)
		return f & VIRTIO_NET_F_GUEST_TSO4;
	if (gso == HDR_GSO_TCPV6)
		return f & VIRTIO_NET_F_GUEST_TSO6;
	return gso == 0;
}

// One frame into receive buffers: a header and the frame, over as many chains as it takes
// when the driver merges them, else in one. 1: delivered (or dropped as unfittable); 0: not
// enough buffers yet (nothing taken); -1: the guest broke the queue.
static int put_frame(struct virtio_net *n, const uint8_t *tap_hdr, const uint8_t *frame,
		     uint32_t flen)
{
	struct virtio_dev *dev = &n->dev;
	struct virtq *vq = &dev->vq[RXQ];
	bool merge = dev->driver_features & VIRTIO_NET_F_MRG_RXBUF;
	uint8_t hdr[NET_HDR];
	if (!rx_header(n, tap_hdr, hdr))
		return 1;
	size_t total = NET_HDR + (size_t)flen, done = 0;
	struct virtq_used used[MAX_MERGE];
	unsigned nused = 0;
	while (done < total) {
		struct virtq_chain *c = nused == 0 ? &n->first : &n->chain;
		int r = nused < MAX_MERGE && nused < vq->size ? virtq_pop(vq, dev->mem, c) : 0;
		if (r < 0)
			return -1;
		if (r ==
		    0) { // the buffers go back untouched; the frame waits for more, unless it
			 // has taken as many as it may (or the whole ring) and still does not fit
			virtq_unpop(vq, (uint16_t)nused);
			return nused == MAX_MERGE || nused == vq->size ? 1 : 0;
		}
		if (!merge &&
		    c->in_len <
			total) { // cannot fit: the chain goes back empty, the frame is dropped
			virtq_push(vq, dev->mem, c->head, 0);
			return 1;
		}
		size_t take = MIN(c->in_len, total - done), at = 0;
		if (done < NET_HDR) { // the header's bytes first (it may straddle buffers)
			size_t h = MIN(take, NET_HDR - done);
			copy_into(c, 0, hdr + done, h);
			at = h;
		}
		if (take > at) // then the header is done: the frame from byte done + at - NET_HDR
			copy_into(c, at, frame + (done + at - NET_HDR), take - at);
		done += take;
		used[nused++] = (struct virtq_used){.head = c->head, .written = (uint32_t)take};
	}
	// How many buffers the frame took, in the first one's header.
	uint8_t nb[2] = {(uint8_t)nused, (uint8_t)(nused >> 8)};
	copy_into(&n->first, NUM_BUFFERS_OFF, nb, sizeof(nb));
	virtq_push_many(vq, dev->mem, used, nused);
	return 1;
}

// Frames read from the backend into receive buffers, while there are buffers. Returns whether
// any was delivered.
static bool give_rx(struct virtio_net *n)
{
	size_t off = 0;
	bool delivered = false;
	size_t hlen = n->tap ? NET_HDR : 0; // a tap's frames come behind their header
	while (queue_ok(n, RXQ) && n->in_len - off >= 4) {
		const uint8_t *p = n->in + off;
		uint32_t len = get_len(p);
		if (len <= hlen || len > hlen + MAX_FRAME) {
			log_msg("network: the backend sent a frame of %u bytes: disconnected", len);
			n->gone = true;
			n->in_len = off = 0;
			break;
		}
		if (n->in_len - off < 4 + (size_t)len)
			break;
		int r = put_frame(n, hlen ? p + 4 : NULL, p + 4 + hlen, len - (uint32_t)hlen);
		if (r < 0) {
			virtio_needs_reset(&n->dev, "receive queue");
			break;
		}
		if (r == 0)
			break;
		delivered = true;
		off += 4 + len;
	}
	if (off) {
		memmove(n->in, n->in + off, n->in_len - off);
		n->in_len -= off;
	}
	return delivered;
}

// A tap's frames, each read whole with its header, put in `in` behind their length as a
// stream's are. One shorter than a header is dropped.
static void fill_tap(struct virtio_net *n)
{
	while (!n->gone && STREAM_CAP - n->in_len >= ELEM_MAX) {
		uint8_t *p = n->in + n->in_len;
		ssize_t r = read(n->backend, p + 4, NET_HDR + MAX_FRAME);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			log_debug("virtio-net: tap read: %s", r < 0 ? strerror(errno) : "closed");
			n->gone = true;
			break;
		}
		if (r <= NET_HDR)
			continue;
		put_len(p, (uint32_t)r);
		n->in_len += 4 + (size_t)r;
	}
}

// Reads what the backend has, as far as `in` has room.
static void fill_in(struct virtio_net *n)
{
	if (n->tap) {
		fill_tap(n);
		return;
	}
	while (!n->gone && n->in_len < STREAM_CAP) {
		ssize_t r = read(n->backend, n->in + n->in_len, STREAM_CAP - n->in_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			log_debug("virtio-net: backend read: %s",
				  r < 0 ? strerror(errno) : "closed");
			n->gone = true;
			break;
		}
		n->in_len += (size_t)r;
	}
}

int virtio_net_kick_fd(struct virtio_dev *dev)
{
	struct virtio_net *n = dev->priv;
	if (n->vhost.fd >= 0) // vhost's interrupts, unless KVM takes them itself
		return dev->irqfd < 0 ? n->vhost.call : -1;
	return n->kick;
}

int virtio_net_backend_fd(struct virtio_dev *dev, short *events)
{
	struct virtio_net *n = dev->priv;
	pthread_mutex_lock(&dev->lock);
	*events = 0;
	int fd = n->backend >= 0 && !n->gone ? n->backend : -1;
	// Read while the buffer has room for a whole frame; write while frames wait. With vhost,
	// the host's link changes are watched instead (a deleted tap).
	if (fd >= 0 && n->vhost.fd >= 0) {
		fd = n->vhost.link;
		*events = POLLIN;
	} else if (fd >= 0) {
		if (STREAM_CAP - n->in_len >= ELEM_MAX)
			*events |= POLLIN;
		if (n->out_off < n->out_len)
			*events |= POLLOUT;
	}
	pthread_mutex_unlock(&dev->lock);
	return fd;
}

// vhost asked for an interrupt that KVM could not take (it looked at the driver's flags
// itself), or a link changed on the host: the interrupt status a virtio-mmio driver reads is
// set here, and the tap checked.
static int run_vhost(struct virtio_net *n)
{
	uint64_t v;
	if (read(n->vhost.call, &v, sizeof(v)) == sizeof(v)) {
		pthread_mutex_lock(&n->dev.lock);
		virtio_raise_used(&n->dev);
		pthread_mutex_unlock(&n->dev.lock);
	}
	struct ifreq ifr;
	if (vhost_net_link_changed(&n->vhost) && ioctl(n->backend, TUNGETIFF, &ifr) < 0 &&
	    errno == EBADFD) {
		log_debug("virtio-net: the tap is gone");
		n->gone = true;
		return -EPIPE;
	}
	return 0;
}

int virtio_net_run(struct virtio_dev *dev)
{
	struct virtio_net *n = dev->priv;
	if (n->vhost.fd >= 0)
		return run_vhost(n);
	uint64_t v;
	if (read(n->kick, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("virtio-net kick: %s", strerror(errno));
	pthread_mutex_lock(&dev->lock);
	// Rounds until nothing moves: a frame given to the guest may free room for the next read,
	// a write to the backend room for the next transmit chains.
	bool tx_used = false, rx_used = false;
	for (unsigned round = 0; round < 64; round++) {
		bool moved = take_tx(n);
		tx_used |= moved;
		if (n->backend >= 0) {
			flush_out(n);
			fill_in(n);
		}
		bool got = give_rx(n);
		rx_used |= got;
		moved |= got;
		if (!moved || n->gone)
			break;
	}
	if (tx_used)
		virtio_signal_used(dev, TXQ);
	if (rx_used)
		virtio_signal_used(dev, RXQ);
	bool gone = n->gone && n->backend >= 0;
	pthread_mutex_unlock(&dev->lock);
	return gone ? -EPIPE : 0;
}
