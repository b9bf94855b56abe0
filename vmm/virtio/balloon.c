// SPDX-License-Identifier: Apache-2.0
// virtio-balloon for free page reporting only (virtio 1.2, 5.5.6.7): the guest names free
// pages it will not use soon and clearvm hands their memory back to the host, so a container
// that once used a lot of memory stops costing it. clearvm never asks for memory (num_pages
// stays 0); buffers on the inflate and deflate queues are returned untouched.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devices.h"

#define VIRTIO_ID_BALLOON 5
#define VIRTIO_BALLOON_F_REPORTING (1ULL << 5)
// inflateq, deflateq, then reporting_vq: queues of features not offered (statsq,
// free_page_vq) take no index.
#define REPORTING_Q 2
#define BALLOON_CONFIG_SIZE 16 // num_pages, actual, free_page_hint_cmd_id, poison_val
#define PAGE 4096U

struct virtio_balloon {
	struct virtio_dev dev;
	int mem_fd; // guest RAM, guest-physical address = offset
	uint64_t *reported;
};

// Frees the host memory behind one reported range: the hole in the RAM file frees shared pages,
// MADV_DONTNEED the private copies made over the kernel's file pages. Whole pages only.
static void give_back(struct virtio_balloon *b, const struct iovec *iov)
{
	uintptr_t base = (uintptr_t)b->dev.mem->base, p = (uintptr_t)iov->iov_base;
	uintptr_t lo = ALIGN_UP(p, PAGE), hi = ALIGN_DOWN(p + iov->iov_len, PAGE);
	if (hi <= lo)
		return;
	fallocate(b->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(lo - base),
		  (off_t)(hi - lo));
	madvise((void *)lo, hi - lo, MADV_DONTNEED);
	if (b->reported)
		__atomic_add_fetch(b->reported, hi - lo, __ATOMIC_RELAXED);
}

static void balloon_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_balloon *b = dev->priv;
	struct virtq_chain chain;
	int r;
	while ((r = virtq_pop(&dev->vq[q], dev->mem, &chain)) > 0) {
		for (unsigned i = 0; q == REPORTING_Q && i < chain.nin; i++)
			give_back(b, &chain.in[i]);
		virtq_push(&dev->vq[q], dev->mem, chain.head, 0);
	}
	if (r < 0) {
		virtio_needs_reset(dev, "balloon queue");
		return;
	}
	virtio_signal_used(dev, q);
}

static void balloon_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len,
			   bool write)
{
	(void)dev;
	(void)off;
	if (!write) // all zero: no pages asked for; writes of "actual" change nothing
		memset(data, 0, len);
}

static void balloon_reset(struct virtio_dev *dev)
{
	(void)dev;
}

static const struct virtio_dev_ops balloon_ops = {.notify = balloon_notify,
						  .config = balloon_config,
						  .reset = balloon_reset};

int virtio_balloon_new(int mem_fd, uint64_t *reported, struct virtio_dev **out)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->mem_fd = mem_fd;
	b->reported = reported;
	virtio_dev_init(&b->dev, VIRTIO_ID_BALLOON, VIRTIO_BALLOON_F_REPORTING, REPORTING_Q + 1,
			&balloon_ops, b);
	*out = &b->dev;
	return 0;
}
