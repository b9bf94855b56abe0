// SPDX-License-Identifier: Apache-2.0
// virtio-mmio register file. Every access is bounds- and width-checked; a driver that
// misbehaves gets DEVICE_NEEDS_RESET, never a VMM crash.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices.h"

#define VIRTIO_MMIO_MAGIC 0x74726976 // "virt"
#define VIRTIO_MMIO_VERSION 2
#define VIRTIO_VENDOR 0x4d56434c     // "LCVM"

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 64
#define STATUS_FAILED 128
#define ISR_USED 1
#define ISR_CONFIG 2

enum {
	REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
	REG_DEV_FEATURES = 0x010, REG_DEV_FEATURES_SEL = 0x014,
	REG_DRV_FEATURES = 0x020, REG_DRV_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = VIRTIO_MMIO_QUEUE_NOTIFY,
	REG_INT_STATUS = 0x060, REG_INT_ACK = 0x064, REG_STATUS = 0x070,
	REG_QUEUE_DESC_LO = 0x080, REG_QUEUE_DESC_HI = 0x084,
	REG_QUEUE_AVAIL_LO = 0x090, REG_QUEUE_AVAIL_HI = 0x094,
	REG_QUEUE_USED_LO = 0x0a0, REG_QUEUE_USED_HI = 0x0a4,
	REG_CONFIG_GEN = 0x0fc, REG_CONFIG = 0x100,
};

void virtio_dev_init(struct virtio_dev *dev, uint32_t device_id, uint64_t features, unsigned nqueues,
		     const struct virtio_dev_ops *ops, void *priv)
{
	dev->device_id = device_id;
	dev->features = features | VIRTIO_F_VERSION_1;
	dev->nqueues = nqueues;
	dev->ops = ops;
	dev->priv = priv;
	dev->notify_fd = dev->irqfd = -1;
	pthread_mutex_init(&dev->lock, NULL);
}

int virtio_dev_save(struct virtio_dev *dev, struct virtio_dev_state *st)
{
	memset(st, 0, sizeof(*st));
	st->device_id = dev->device_id;
	st->nqueues = dev->nqueues;
	st->status = dev->status;
	st->isr = dev->isr;
	st->queue_sel = dev->queue_sel;
	st->dev_feat_sel = dev->dev_feat_sel;
	st->drv_feat_sel = dev->drv_feat_sel;
	st->config_gen = dev->config_gen;
	st->driver_features = dev->driver_features;
	memcpy(st->vq, dev->vq, sizeof(st->vq));
	if (!dev->ops->save)
		return 0;
	int n = dev->ops->save(dev, st->own, sizeof(st->own));
	if (n < 0)
		return n;
	st->own_len = (uint32_t)n;
	return 0;
}

int virtio_dev_restore(struct virtio_dev *dev, const struct virtio_dev_state *st)
{
	if (st->device_id != dev->device_id || st->nqueues != dev->nqueues || st->own_len > sizeof(st->own))
		return -EINVAL;
	for (unsigned q = 0; q < dev->nqueues; q++) {
		const struct virtq *vq = &st->vq[q];
		if (vq->size > virtio_queue_max(dev) || (vq->ready && !virtq_valid(vq, dev->mem)))
			return -EINVAL;
	}
	dev->status = st->status;
	dev->isr = st->isr;
	dev->queue_sel = st->queue_sel;
	dev->dev_feat_sel = st->dev_feat_sel;
	dev->drv_feat_sel = st->drv_feat_sel;
	dev->config_gen = st->config_gen;
	dev->driver_features = st->driver_features & dev->features;
	memcpy(dev->vq, st->vq, sizeof(dev->vq));
	if (dev->ops->restore)
		return dev->ops->restore(dev, st->own, st->own_len);
	return st->own_len ? -EINVAL : 0;
}

void virtio_dev_free(struct virtio_dev *dev)
{
	if (!dev)
		return;
	void *mem = dev->priv; // holds dev
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	pthread_mutex_destroy(&dev->lock);
	free(mem);
}

bool virtio_driver_ok(const struct virtio_dev *dev)
{
	return (dev->status & STATUS_DRIVER_OK) && !(dev->status & STATUS_NEEDS_RESET);
}

static void reset(struct virtio_dev *dev)
{
	memset(dev->vq, 0, sizeof(dev->vq));
	dev->status = dev->isr = dev->queue_sel = 0;
	dev->dev_feat_sel = dev->drv_feat_sel = 0;
	dev->driver_features = 0;
	dev->generation++;
	if (dev->ops->reset)
		dev->ops->reset(dev);
}

void virtio_raise_used(struct virtio_dev *dev)
{
	dev->isr |= ISR_USED;
	dev->raise_irq(dev->irq_ctx, dev->irq);
}

void virtio_signal_used(struct virtio_dev *dev, unsigned q)
{
	if (q < dev->nqueues && !virtq_want_interrupt(&dev->vq[q], dev->mem))
		return;
	virtio_raise_used(dev);
}

void virtio_config_changed(struct virtio_dev *dev)
{
	__atomic_add_fetch(&dev->config_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_or_fetch(&dev->isr, ISR_CONFIG, __ATOMIC_SEQ_CST);
	dev->raise_irq(dev->irq_ctx, dev->irq);
}

void virtio_needs_reset(struct virtio_dev *dev, const char *why)
{
	log_debug("virtio device %u: needs reset: %s", dev->device_id, why);
	dev->status |= STATUS_NEEDS_RESET;
	dev->isr |= ISR_CONFIG;
	dev->raise_irq(dev->irq_ctx, dev->irq);
}

static struct virtq *cur_vq(struct virtio_dev *dev)
{
	return dev->queue_sel < dev->nqueues ? &dev->vq[dev->queue_sel] : NULL;
}

static uint32_t reg_read(struct virtio_dev *dev, uint64_t off)
{
	struct virtq *vq = cur_vq(dev);
	switch (off) {
	case REG_MAGIC: return VIRTIO_MMIO_MAGIC;
	case REG_VERSION: return VIRTIO_MMIO_VERSION;
	case REG_DEVICE_ID: return dev->device_id;
	case REG_VENDOR_ID: return VIRTIO_VENDOR;
	case REG_DEV_FEATURES:
		return dev->dev_feat_sel < 2 ? (uint32_t)(dev->features >> (32 * dev->dev_feat_sel)) : 0;
	case REG_QUEUE_NUM_MAX: return vq ? virtio_queue_max(dev) : 0;
	case REG_QUEUE_READY: return vq ? vq->ready : 0;
	case REG_INT_STATUS: return dev->isr | (dev->irqfd >= 0 ? ISR_USED : 0);
	case REG_STATUS: return dev->status;
	case REG_CONFIG_GEN: return dev->config_gen;
	default: return 0;
	}
}

static void set_half(gpa_t *addr, uint32_t v, bool high)
{
	*addr = high ? ((*addr & 0xffffffffULL) | ((uint64_t)v << 32))
		     : ((*addr & ~0xffffffffULL) | v);
}

static void reg_write(struct virtio_dev *dev, uint64_t off, uint32_t v)
{
	struct virtq *vq = cur_vq(dev);
	// Queue layout may change only while the queue is not ready (4.2.2.1).
	bool vq_writable = vq && !vq->ready;
	switch (off) {
	case REG_DEV_FEATURES_SEL: dev->dev_feat_sel = v; break;
	case REG_DRV_FEATURES_SEL: dev->drv_feat_sel = v; break;
	case REG_DRV_FEATURES:
		if (dev->drv_feat_sel < 2 && !(dev->status & STATUS_FEATURES_OK)) {
			unsigned shift = 32 * dev->drv_feat_sel;
			dev->driver_features &= ~(0xffffffffULL << shift);
			dev->driver_features |= ((uint64_t)v << shift) & dev->features;
		}
		break;
	case REG_QUEUE_SEL: dev->queue_sel = v; break;
	case REG_QUEUE_NUM:
		if (vq_writable)
			vq->size = v <= virtio_queue_max(dev) ? (uint16_t)v : 0;
		break;
	case REG_QUEUE_READY:
		if (!vq)
			break;
		if (v && !virtq_valid(vq, dev->mem)) {
			virtio_needs_reset(dev, "queue outside guest RAM or bad size");
			break;
		}
		vq->ready = v != 0;
		break;
	case REG_QUEUE_NOTIFY:
		if (v < dev->nqueues && virtio_driver_ok(dev) && dev->vq[v].ready)
			dev->ops->notify(dev, v);
		break;
	case REG_INT_ACK: dev->isr &= ~v; break;
	case REG_STATUS:
		if (v == 0) {
			reset(dev);
			break;
		}
		if ((v & STATUS_FEATURES_OK) && !(dev->driver_features & VIRTIO_F_VERSION_1))
			v &= ~(uint32_t)STATUS_FEATURES_OK; // legacy drivers are refused
		bool was_ok = dev->status & STATUS_DRIVER_OK;
		dev->status = v | (dev->status & STATUS_NEEDS_RESET);
		if (!was_ok && virtio_driver_ok(dev) && dev->ops->driver_ok)
			dev->ops->driver_ok(dev);
		break;
	case REG_QUEUE_DESC_LO: if (vq_writable) set_half(&vq->desc, v, false); break;
	case REG_QUEUE_DESC_HI: if (vq_writable) set_half(&vq->desc, v, true); break;
	case REG_QUEUE_AVAIL_LO: if (vq_writable) set_half(&vq->avail, v, false); break;
	case REG_QUEUE_AVAIL_HI: if (vq_writable) set_half(&vq->avail, v, true); break;
	case REG_QUEUE_USED_LO: if (vq_writable) set_half(&vq->used, v, false); break;
	case REG_QUEUE_USED_HI: if (vq_writable) set_half(&vq->used, v, true); break;
	default: break;
	}
}

void virtio_mmio_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	struct virtio_dev *dev = opaque;
	pthread_mutex_lock(&dev->lock);
	if (off >= REG_CONFIG) {
		if (dev->ops->config)
			dev->ops->config(dev, (uint32_t)(off - REG_CONFIG), data, len, write);
		else if (!write)
			memset(data, 0, len);
	} else if (len == 4 && !(off & 3)) {
		uint32_t v;
		if (write) {
			memcpy(&v, data, 4);
			reg_write(dev, off, v);
		} else {
			v = reg_read(dev, off);
			memcpy(data, &v, 4);
		}
	} else if (!write) {
		memset(data, 0, len); // registers are 32-bit wide only (4.2.2.2)
	}
	pthread_mutex_unlock(&dev->lock);
}
