// SPDX-License-Identifier: Apache-2.0
// virtio-console with VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.2, 5.3): each port is a
// non-tty character device in the guest, named so guest-init can find it. Host-to-guest
// bytes wait in a small per-port buffer until the guest posts receive buffers.
// Guest-to-host bytes never block the thread that moves them: the host ends are descriptions
// of their own, non-blocking; what a slow reader cannot take yet waits in a per-port buffer
// while the device takes no more of that port's chains (so the guest's writer waits, not a
// vCPU), and the I/O thread writes it out once the reader takes more.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_F_MULTIPORT (1ULL << 1)
#define CONSOLE_MAX_PORTS 18 // guest-init/abi.h: ABI_NR_ENTER_PORTS
#define RX_PENDING_MAX 65536
#define CTRL_RX_Q 2 // host -> guest control messages
#define CTRL_TX_Q 3 // guest -> host control messages
#define CTRL_PENDING_MAX (2 * CONSOLE_MAX_PORTS) // an ADD for every port, then NAME and OPEN
#define CONSOLE_QUEUE_MAX 32
#define TX_PENDING_MAX 65536 // more than one chain of Linux's driver holds (32 KiB)

enum {
	VIRTIO_CONSOLE_DEVICE_READY = 0,
	VIRTIO_CONSOLE_DEVICE_ADD = 1,
	VIRTIO_CONSOLE_PORT_READY = 3,
	VIRTIO_CONSOLE_PORT_OPEN = 6,
	VIRTIO_CONSOLE_PORT_NAME = 7,
};

struct ctrl_msg {
	uint32_t id;
	uint16_t event, value;
	char name[32]; // only for PORT_NAME
};

struct virtio_console {
	struct virtio_dev dev;
	unsigned nports;
	int fds[CONSOLE_MAX_PORTS];
	char names[CONSOLE_MAX_PORTS][32];
	bool ready[CONSOLE_MAX_PORTS];  // the guest said PORT_READY
	bool open[CONSOLE_MAX_PORTS];   // the guest has the port open (it drops data sent before)
	bool closed[CONSOLE_MAX_PORTS]; // the host end closed: EOF once rx drains
	uint8_t rx[CONSOLE_MAX_PORTS][RX_PENDING_MAX];
	size_t rx_len[CONSOLE_MAX_PORTS];
	struct ctrl_msg pending[CTRL_PENDING_MAX];
	unsigned npending;
	bool owned[CONSOLE_MAX_PORTS];  // fds[p] is a description of our own: closed at the end
	uint8_t tx[CONSOLE_MAX_PORTS][TX_PENDING_MAX]; // guest-to-host bytes the reader has not taken
	size_t tx_len[CONSOLE_MAX_PORTS];
	int out_wake; // eventfd for the I/O thread: output waits for a reader, or a port has room
	bool rx_full[CONSOLE_MAX_PORTS]; // a send found the port's buffer full: wake when it drains
};

static void wake_io_thread(struct virtio_console *c)
{
	uint64_t one = 1;
	if (write(c->out_wake, &one, sizeof(one)) < 0)
		log_debug("console: waking the I/O thread: %s", strerror(errno));
}

// Port p's queues (5.3.2): port 0 uses 0 (receive) and 1 (transmit), port p>0 uses 2p+2 and 2p+3.
static int port_of_txq(unsigned q)
{
	if (q == 1)
		return 0;
	if (q >= 5 && (q & 1))
		return (int)(q - 3) / 2;
	return -1;
}

static int port_of_rxq(unsigned q)
{
	if (q == 0)
		return 0;
	if (q >= 4 && !(q & 1))
		return (int)(q - 2) / 2;
	return -1;
}

static unsigned rxq_of_port(unsigned p)
{
	return p == 0 ? 0 : 2 * p + 2;
}

static void queue_ctrl(struct virtio_console *c, uint32_t id, uint16_t event, uint16_t value,
		       const char *name)
{
	if (c->npending == CTRL_PENDING_MAX)
		return;
	struct ctrl_msg *m = &c->pending[c->npending++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	m->event = event;
	m->value = value;
	if (name)
		strncpy(m->name, name, sizeof(m->name) - 1);
}

// Sends queued control messages while the guest has receive buffers for them.
static void flush_ctrl(struct virtio_console *c)
{
	struct virtio_dev *dev = &c->dev;
	struct virtq *vq = &dev->vq[CTRL_RX_Q];
	unsigned sent = 0;
	while (sent < c->npending && vq->ready) {
		struct virtq_chain chain;
		int r = virtq_pop(vq, dev->mem, &chain);
		if (r < 0) {
			virtio_needs_reset(dev, "console control queue");
			return;
		}
		if (r == 0 && !virtq_set_notify(vq, dev->mem, true))
			break; // the guest will notify when it posts a buffer
		if (r == 0)
			continue;
		struct ctrl_msg *m = &c->pending[sent++];
		uint8_t buf[8 + sizeof(m->name)];
		memcpy(buf, &m->id, 4);
		memcpy(buf + 4, &m->event, 2);
		memcpy(buf + 6, &m->value, 2);
		size_t len = 8;
		if (m->event == VIRTIO_CONSOLE_PORT_NAME) {
			size_t nl = strlen(m->name);
			memcpy(buf + 8, m->name, nl);
			len += nl;
		}
		size_t put = buf_to_iov(chain.in, chain.nin, buf, len);
		virtq_push(vq, dev->mem, chain.head, (uint32_t)put);
	}
	if (sent == c->npending) // a notify for every buffer the guest posts is just an exit
		virtq_set_notify(vq, dev->mem, false);
	if (sent) {
		memmove(c->pending, c->pending + sent, (c->npending - sent) * sizeof(c->pending[0]));
		c->npending -= sent;
		virtio_signal_used(dev, CTRL_RX_Q);
	}
}

// Moves pending host-to-guest bytes of a port into the guest's receive buffers.
static void flush_rx(struct virtio_console *c, unsigned port)
{
	struct virtio_dev *dev = &c->dev;
	struct virtq *vq = &dev->vq[rxq_of_port(port)];
	bool used = false, can = c->ready[port] && c->open[port];
	while (can && c->rx_len[port] && vq->ready) {
		struct virtq_chain chain;
		int r = virtq_pop(vq, dev->mem, &chain);
		if (r < 0) {
			virtio_needs_reset(dev, "console receive queue");
			return;
		}
		if (r == 0 && !virtq_set_notify(vq, dev->mem, true))
			break; // the guest will notify when it posts a buffer
		if (r == 0)
			continue;
		size_t put = buf_to_iov(chain.in, chain.nin, c->rx[port], c->rx_len[port]);
		memmove(c->rx[port], c->rx[port] + put, c->rx_len[port] - put);
		c->rx_len[port] -= put;
		virtq_push(vq, dev->mem, chain.head, (uint32_t)put);
		used = true;
	}
	if (!c->rx_len[port] || !can) // PORT_READY and PORT_OPEN come on the control queue
		virtq_set_notify(vq, dev->mem, false);
	if (used)
		virtio_signal_used(dev, rxq_of_port(port));
	if (used && c->rx_full[port]) { // the sender that found no room may send again
		c->rx_full[port] = false;
		wake_io_thread(c);
	}
	if (can && !c->rx_len[port] && c->closed[port]) {
		c->closed[port] = false; // say it once
		queue_ctrl(c, port, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
	}
}

static void handle_ctrl(struct virtio_console *c, const uint8_t *buf, size_t len)
{
	if (len < 8)
		return;
	uint32_t id;
	uint16_t event, value;
	memcpy(&id, buf, 4);
	memcpy(&event, buf + 4, 2);
	memcpy(&value, buf + 6, 2);
	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (value != 1)
			break;
		for (unsigned p = 0; p < c->nports; p++)
			queue_ctrl(c, p, VIRTIO_CONSOLE_DEVICE_ADD, 0, NULL);
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (value != 1 || id >= c->nports)
			break;
		queue_ctrl(c, id, VIRTIO_CONSOLE_PORT_NAME, 0, c->names[id]);
		queue_ctrl(c, id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL); // the host end is connected
		c->ready[id] = true;
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (id < c->nports)
			c->open[id] = value != 0;
		break;
	default:
		break; // others need no answer
	}
}

static unsigned txq_of_port(unsigned p)
{
	return p == 0 ? 1 : 2 * p + 3;
}

// Writes what the fd takes now: the count, or -1 when the reader is gone (output dropped, as
// into a closed pipe).
static ssize_t write_some(int fd, const uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = write(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

// Writes a port's waiting output; true when none is left.
static bool flush_tx(struct virtio_console *c, unsigned port)
{
	size_t len = c->tx_len[port];
	ssize_t n = len && c->fds[port] >= 0 ? write_some(c->fds[port], c->tx[port], len) : (ssize_t)len;
	if (n < 0)
		n = (ssize_t)len; // the reader is gone: dropped
	memmove(c->tx[port], c->tx[port] + n, len - (size_t)n);
	c->tx_len[port] = len - (size_t)n;
	return c->tx_len[port] == 0;
}

// Takes the guest's chains on a port's transmit queue while its reader keeps up. The rest of a
// chain the reader did not take waits in tx (a chain past its room, only a broken guest makes:
// cut); then no more chains are taken until the I/O thread has written it out.
static int transmit(struct virtio_console *c, unsigned port)
{
	struct virtio_dev *dev = &c->dev;
	struct virtq *vq = &dev->vq[txq_of_port(port)];
	struct virtq_chain chain;
	int r = 0;
	bool used = false;
	while (flush_tx(c, port) && (r = virtq_pop(vq, dev->mem, &chain)) > 0) {
		for (unsigned i = 0; i < chain.nout; i++) {
			const uint8_t *p = chain.out[i].iov_base;
			size_t len = chain.out[i].iov_len;
			if (!c->tx_len[port] && c->fds[port] >= 0) {
				ssize_t n = write_some(c->fds[port], p, len);
				n = n < 0 ? (ssize_t)len : n; // the reader is gone: dropped
				p += n;
				len -= (size_t)n;
			}
			if (len && c->fds[port] >= 0) {
				size_t room = TX_PENDING_MAX - c->tx_len[port];
				memcpy(c->tx[port] + c->tx_len[port], p, MIN(len, room));
				c->tx_len[port] += MIN(len, room);
			}
		}
		virtq_push(vq, dev->mem, chain.head, 0);
		used = true;
	}
	if (used)
		virtio_signal_used(dev, txq_of_port(port));
	if (c->tx_len[port])
		wake_io_thread(c);
	return r;
}

static void console_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_console *c = dev->priv;
	struct virtq_chain chain;
	int r = 0;
	int port = port_of_txq(q);
	int rxport = port_of_rxq(q);
	if (rxport >= 0 && (unsigned)rxport < c->nports) {
		flush_rx(c, (unsigned)rxport);
	} else if (q == CTRL_TX_Q) {
		while ((r = virtq_pop(&dev->vq[q], dev->mem, &chain)) > 0) {
			uint8_t buf[64];
			size_t n = iov_to_buf(chain.out, chain.nout, buf, sizeof(buf));
			handle_ctrl(c, buf, n);
			virtq_push(&dev->vq[q], dev->mem, chain.head, 0);
		}
		virtio_signal_used(dev, q);
	} else if (port >= 0 && (unsigned)port < c->nports) {
		r = transmit(c, (unsigned)port);
	}
	if (r < 0) {
		virtio_needs_reset(dev, "console queue");
		return;
	}
	if (q == CTRL_TX_Q) // a PORT_READY or PORT_OPEN may have made a port able to receive
		for (unsigned p = 0; p < c->nports; p++)
			flush_rx(c, p);
	flush_ctrl(c);
}

static ssize_t send_bytes(struct virtio_dev *dev, unsigned port, const void *data, size_t len, bool whole)
{
	struct virtio_console *c = dev->priv;
	if (port >= c->nports)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	size_t n = MIN(len, RX_PENDING_MAX - c->rx_len[port]);
	if (whole && n < len)
		n = 0;
	memcpy(c->rx[port] + c->rx_len[port], data, n);
	c->rx_len[port] += n;
	c->rx_full[port] = c->rx_full[port] || n < len;
	if (virtio_driver_ok(dev)) {
		flush_rx(c, port);
		flush_ctrl(c);
	}
	pthread_mutex_unlock(&dev->lock);
	return (ssize_t)n;
}

ssize_t virtio_console_send(struct virtio_dev *dev, unsigned port, const void *data, size_t len)
{
	return send_bytes(dev, port, data, len, false);
}

ssize_t virtio_console_send_whole(struct virtio_dev *dev, unsigned port, const void *data, size_t len)
{
	return send_bytes(dev, port, data, len, true);
}

bool virtio_console_pump(struct virtio_dev *dev, unsigned port, int fd, struct console_pump *p, bool readable)
{
	if (!p->open)
		return false;
	if (p->off == p->len) {
		if (!readable)
			return true;
		ssize_t n = read(fd, p->buf, sizeof(p->buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return true;
		if (n <= 0) {
			virtio_console_close(dev, port);
			p->open = false;
			return false;
		}
		p->len = (size_t)n;
		p->off = 0;
	}
	ssize_t put = virtio_console_send(dev, port, p->buf + p->off, p->len - p->off);
	if (put > 0)
		p->off += (size_t)put;
	return true;
}

void virtio_console_set_fd(struct virtio_dev *dev, unsigned port, int fd)
{
	struct virtio_console *c = dev->priv;
	if (port >= c->nports)
		return;
	pthread_mutex_lock(&dev->lock);
	flush_tx(c, port); // what the old reader has not taken is dropped with it
	c->tx_len[port] = 0;
	if (c->owned[port])
		close(c->fds[port]);
	c->owned[port] = false;
	c->fds[port] = fd;
	pthread_mutex_unlock(&dev->lock);
}

int virtio_console_out_wake_fd(struct virtio_dev *dev)
{
	return ((struct virtio_console *)dev->priv)->out_wake;
}

unsigned virtio_console_out_pollfds(struct virtio_dev *dev, struct pollfd *fds, unsigned max)
{
	struct virtio_console *c = dev->priv;
	unsigned n = 0;
	pthread_mutex_lock(&dev->lock);
	for (unsigned p = 0; p < c->nports && n < max; p++)
		if (c->tx_len[p] && c->fds[p] >= 0)
			fds[n++] = (struct pollfd){.fd = c->fds[p], .events = POLLOUT};
	pthread_mutex_unlock(&dev->lock);
	return n;
}

void virtio_console_out_ready(struct virtio_dev *dev, int fd)
{
	struct virtio_console *c = dev->priv;
	pthread_mutex_lock(&dev->lock);
	for (unsigned p = 0; p < c->nports; p++)
		if (c->fds[p] == fd && c->tx_len[p] && flush_tx(c, p) && virtio_driver_ok(dev) &&
		    transmit(c, p) < 0)
			virtio_needs_reset(dev, "console queue");
	pthread_mutex_unlock(&dev->lock);
}

// The host end of an output port as a description of its own, non-blocking, so a reader that
// stops reading makes writes fail with EAGAIN instead of blocking, without changing the
// caller's description (a shell's terminal, an engine's pipe). Regular files never block;
// where no description of our own can be had (a socket), the fd itself is used as it is.
static int own_output_fd(int fd, bool *owned)
{
	struct stat st;
	*owned = false;
	if (fd < 0 || fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return fd;
	char path[40];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int own = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (own < 0) {
		log_debug("console: fd %d: no description of its own (%s): writes to it may block", fd,
			  strerror(errno));
		return fd;
	}
	*owned = true;
	return own;
}

static void console_destroy(struct virtio_dev *dev)
{
	struct virtio_console *c = dev->priv;
	for (unsigned p = 0; p < c->nports; p++)
		if (c->owned[p])
			close(c->fds[p]);
	if (c->out_wake >= 0)
		close(c->out_wake);
}

void virtio_console_reopen(struct virtio_dev *dev, unsigned port)
{
	struct virtio_console *c = dev->priv;
	if (port >= c->nports)
		return;
	pthread_mutex_lock(&dev->lock);
	c->closed[port] = false;
	c->rx_len[port] = 0;
	if (c->ready[port])
		queue_ctrl(c, port, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	if (virtio_driver_ok(dev))
		flush_ctrl(c);
	pthread_mutex_unlock(&dev->lock);
}

void virtio_console_close(struct virtio_dev *dev, unsigned port)
{
	struct virtio_console *c = dev->priv;
	if (port >= c->nports)
		return;
	pthread_mutex_lock(&dev->lock);
	c->closed[port] = true;
	if (virtio_driver_ok(dev)) {
		flush_rx(c, port);
		flush_ctrl(c);
	}
	pthread_mutex_unlock(&dev->lock);
}

static void console_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len,
			   bool write)
{
	struct virtio_console *c = dev->priv;
	uint8_t cfg[12] = {0}; // cols, rows, max_nr_ports, emerg_wr
	uint32_t n = c->nports;
	memcpy(cfg + 4, &n, 4);
	if (write)
		return;
	memset(data, 0, len);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, MIN(len, sizeof(cfg) - off));
}

static void console_reset(struct virtio_dev *dev)
{
	struct virtio_console *c = dev->priv;
	c->npending = 0;
	memset(c->ready, 0, sizeof(c->ready));
	memset(c->open, 0, sizeof(c->open));
}

// What the guest's driver and the device agreed on (ports ready and open, control messages not
// yet taken). Bytes waiting to go to the guest are not kept: a template has none.
struct console_state {
	uint32_t nports, npending;
	bool ready[CONSOLE_MAX_PORTS], open[CONSOLE_MAX_PORTS], closed[CONSOLE_MAX_PORTS];
	struct ctrl_msg pending[CTRL_PENDING_MAX];
};

static int console_save(struct virtio_dev *dev, uint8_t *buf, size_t cap)
{
	struct virtio_console *c = dev->priv;
	struct console_state st = {.nports = c->nports, .npending = c->npending};
	for (unsigned p = 0; p < c->nports; p++)
		if (c->rx_len[p])
			return -EBUSY;
	if (cap < sizeof(st))
		return -ENOSPC;
	memcpy(st.ready, c->ready, sizeof(st.ready));
	memcpy(st.open, c->open, sizeof(st.open));
	memcpy(st.closed, c->closed, sizeof(st.closed));
	memcpy(st.pending, c->pending, sizeof(st.pending));
	memcpy(buf, &st, sizeof(st));
	return (int)sizeof(st);
}

static int console_restore(struct virtio_dev *dev, const uint8_t *buf, size_t len)
{
	struct virtio_console *c = dev->priv;
	struct console_state st;
	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.nports != c->nports || st.npending > CTRL_PENDING_MAX)
		return -EINVAL;
	memcpy(c->ready, st.ready, sizeof(c->ready));
	memcpy(c->open, st.open, sizeof(c->open));
	memcpy(c->closed, st.closed, sizeof(c->closed));
	memcpy(c->pending, st.pending, sizeof(c->pending));
	c->npending = st.npending;
	for (unsigned i = 0; i < c->npending; i++)
		c->pending[i].name[sizeof(c->pending[i].name) - 1] = '\0';
	return 0;
}

static const struct virtio_dev_ops console_ops = {.notify = console_notify,
						  .config = console_config,
						  .reset = console_reset,
						  .destroy = console_destroy,
						  .save = console_save,
						  .restore = console_restore};

int virtio_console_new(const int *fds, const char *const *names, unsigned nports,
		       struct virtio_dev **out)
{
	if (nports == 0 || nports > CONSOLE_MAX_PORTS)
		return -EINVAL;
	struct virtio_console *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->out_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->out_wake < 0) {
		int err = errno;
		free(c);
		return -err;
	}
	c->nports = nports;
	for (unsigned i = 0; i < nports; i++) {
		c->fds[i] = own_output_fd(fds[i], &c->owned[i]);
		strncpy(c->names[i], names[i], sizeof(c->names[i]) - 1);
	}
	// port 0's pair, the control pair, then one pair per port
	virtio_dev_init(&c->dev, VIRTIO_ID_CONSOLE, VIRTIO_CONSOLE_F_MULTIPORT, 2 + 2 * nports, &console_ops, c);
	// The guest posts a page for every entry of every receive queue at boot; 32 pages
	// (128 KiB) in flight per port is plenty for a stream, and transmit is served at notify.
	c->dev.queue_max = CONSOLE_QUEUE_MAX;
	*out = &c->dev;
	return 0;
}
