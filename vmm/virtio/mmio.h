// SPDX-License-Identifier: Apache-2.0
// virtio-mmio transport (virtio 1.2, 4.2, version 2): a device plugs in with a few hooks.
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

#define VIRTIO_MAX_QUEUES 38 // a console with 18 ports (and its control queues)
#define VIRTIO_F_VERSION_1 (1ULL << 32)
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050 // the register the driver writes a queue's index to

struct virtio_dev;

struct virtio_dev_ops {
	// The driver made buffers available on queue q. Called with the device lock held, on the
	// vCPU that notified: a device with slow work hands it to a thread of its own.
	void (*notify)(struct virtio_dev *dev, unsigned q);
	// Device-specific config space, offset from 0x100; reads must fill all of data.
	void (*config)(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len, bool write);
	// Optional: the driver set DRIVER_OK (features and queues are final).
	void (*driver_ok)(struct virtio_dev *dev);
	// The driver reset the device: drop per-session state.
	void (*reset)(struct virtio_dev *dev);
	// Optional: stops the device's threads and frees whatever it owns, but not the allocation
	// holding dev (its priv), which virtio_dev_free frees after the device lock: a server
	// thread may take that lock until destroy has stopped it.
	void (*destroy)(struct virtio_dev *dev);
	// A template (optional): the device's own state into buf (at most cap bytes; the length,
	// or -ENOSPC), and back into a device built the same way (0, or -EINVAL when malformed).
	int (*save)(struct virtio_dev *dev, uint8_t *buf, size_t cap);
	int (*restore)(struct virtio_dev *dev, const uint8_t *buf, size_t len);
};

struct virtio_dev {
	uint32_t device_id;
	uint64_t features; // offered; VIRTIO_F_VERSION_1 is always added
	uint16_t queue_max; // the largest queue the driver may set up; 0: VIRTQ_MAX_SIZE
	unsigned nqueues;
	const struct virtio_dev_ops *ops;
	void *priv;
	const struct guest_mem *mem;
	void (*raise_irq)(void *ctx, unsigned irq); // edge on the device's IRQ line
	void *irq_ctx;
	unsigned irq;
	// An eventfd KVM signals itself when the driver notifies queue 0 (an ioeventfd: no exit to
	// clearvm), or -1: notifies come as MMIO exits to ops->notify.
	int notify_fd;
	// Or one eventfd per queue (nqueues of them; NULL: none), each signalled when the driver
	// notifies that queue.
	const int *queue_notify_fds;
	// An eventfd the device's backend signals to interrupt the guest itself (KVM_IRQFD: no
	// exit to clearvm), or -1. Set by the device; the VM sets it back to -1 when KVM refuses
	// it (the device then relays it). While set, the interrupt status always reads "used
	// buffers": the backend looked at the driver's flags before signalling.
	int irqfd;

	pthread_mutex_t lock;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint32_t status, isr, queue_sel, dev_feat_sel, drv_feat_sel, config_gen;
	uint64_t driver_features;
	uint32_t generation; // counts resets: work begun before one is dropped after it
};

// A device's state in a template: the transport's registers and queues, then its own.
#define VIRTIO_OWN_STATE_MAX 2048
struct virtio_dev_state {
	uint32_t device_id, nqueues, status, isr, queue_sel, dev_feat_sel, drv_feat_sel, config_gen;
	uint64_t driver_features;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint32_t own_len;
	uint8_t own[VIRTIO_OWN_STATE_MAX];
};
// Both with the device lock held by the caller or the device not running. 0 or -errno.
int virtio_dev_save(struct virtio_dev *dev, struct virtio_dev_state *st);
// Checks what it restores as guest input: queues inside RAM, sizes in range, the same device.
int virtio_dev_restore(struct virtio_dev *dev, const struct virtio_dev_state *st);

// Sets a device's identity (VIRTIO_F_VERSION_1 is added to features) and its lock.
void virtio_dev_init(struct virtio_dev *dev, uint32_t device_id, uint64_t features, unsigned nqueues,
		     const struct virtio_dev_ops *ops, void *priv);
static inline uint16_t virtio_queue_max(const struct virtio_dev *dev)
{
	return dev->queue_max ? dev->queue_max : VIRTQ_MAX_SIZE;
}
// The bus handler for the device's 4 KiB window; `opaque` is the struct virtio_dev.
void virtio_mmio_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write);
// Tells the driver that used buffers are waiting (if it wants to know).
void virtio_signal_used(struct virtio_dev *dev, unsigned q);
// The same, whatever the queues' flags: for a data path that looked at them itself (vhost).
void virtio_raise_used(struct virtio_dev *dev);
// The device's configuration changed (any thread): a new generation and a configuration
// change interrupt.
void virtio_config_changed(struct virtio_dev *dev);
// The guest broke a queue: flag DEVICE_NEEDS_RESET and stop using the device until reset.
void virtio_needs_reset(struct virtio_dev *dev, const char *why);
bool virtio_driver_ok(const struct virtio_dev *dev);
