// SPDX-License-Identifier: Apache-2.0
// virtio-balloon (virtio 1.2, 5.5): free page reporting (5.5.6.7), by which the guest names free
// pages it will not use soon and clearvm hands their memory back to the host, so a container
// that once used a lot of memory stops costing it; and a target (num_pages) that `clearvm
// update --memory` sets to take memory from a running VM (and give it back, up to the RAM it
// was made with): the guest's driver fills the balloon with pages of its own, which it then no
// longer counts as its memory, and names them on the inflate queue; clearvm frees the host
// memory behind them. Pages leaving the balloon (the deflate queue) need nothing: they are
// zero pages again at their next touch.
#define _GNU_SOURCE
#include <endian.h>
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
#define INFLATE_Q 0
#define REPORTING_Q 2
#define BALLOON_CONFIG_SIZE 16 // num_pages, actual, free_page_hint_cmd_id, poison_val
#define PAGE 4096U	       // the balloon's page, whatever the guest's own

struct virtio_balloon {
	struct virtio_dev dev;
	int mem_fd; // guest RAM, guest-physical address = offset
	uint64_t *reported;
	uint32_t target; // num_pages: set by the I/O thread, read by the driver (atomic)
	uint32_t actual; // what the driver says it holds
};

// Frees the host memory behind guest bytes [p, p + len): the hole in the RAM file frees shared
// pages, MADV_DONTNEED the private copies made over the kernel's file pages. Whole pages only.
static void give_back(struct virtio_balloon *b, uint8_t *p, size_t len, bool report)
{
	uintptr_t base = (uintptr_t)b->dev.mem->base;
	uintptr_t lo = ALIGN_UP((uintptr_t)p, PAGE), hi = ALIGN_DOWN((uintptr_t)p + len, PAGE);
	if (hi <= lo)
		return;
	fallocate(b->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(lo - base),
		  (off_t)(hi - lo));
	madvise((void *)lo, hi - lo, MADV_DONTNEED);
	if (report && b->reported)
		__atomic_add_fetch(b->reported, hi - lo, __ATOMIC_RELAXED);
}

// The run of pages [pfn, pfn + n) given to the balloon; a run outside guest RAM is left alone.
static void give_back_pages(struct virtio_balloon *b, uint64_t pfn, uint64_t n)
{
	uint8_t *p = n ? gpa_ptr(b->dev.mem, pfn * PAGE, n * PAGE) : NULL;
	if (p)
		give_back(b, p, n * PAGE, false);
}

// An inflate buffer: 32-bit little-endian page frame numbers (4 KiB pages), given back in runs
// of consecutive pages.
static void inflate(struct virtio_balloon *b, const struct iovec *iov)
{
	const uint8_t *pfns = iov->iov_base;
	uint64_t start = 0, n = 0;
	for (size_t i = 0; i + 4 <= iov->iov_len; i += 4) {
		uint32_t le;
		memcpy(&le, pfns + i, 4);
		uint64_t pfn = le32toh(le);
		if (n && pfn == start + n) {
			n++;
			continue;
		}
		give_back_pages(b, start, n);
		start = pfn;
		n = 1;
	}
	give_back_pages(b, start, n);
}

static void balloon_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_balloon *b = dev->priv;
	struct virtq_chain chain;
	int r;
	while ((r = virtq_pop(&dev->vq[q], dev->mem, &chain)) > 0) {
		for (unsigned i = 0; q == REPORTING_Q && i < chain.nin; i++)
			give_back(b, chain.in[i].iov_base, chain.in[i].iov_len, true);
		for (unsigned i = 0; q == INFLATE_Q && i < chain.nout; i++)
			inflate(b, &chain.out[i]);
		virtq_push(&dev->vq[q], dev->mem, chain.head, 0);
	}
	if (r < 0) {
		virtio_needs_reset(dev, "balloon queue");
		return;
	}
	virtio_signal_used(dev, q);
}

// num_pages (read-only for the driver) and actual (the driver's to write); the rest reads 0.
static void balloon_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len,
			   bool write)
{
	struct virtio_balloon *b = dev->priv;
	uint32_t cfg[BALLOON_CONFIG_SIZE / 4] = {
	    htole32(__atomic_load_n(&b->target, __ATOMIC_RELAXED)),
	    htole32(__atomic_load_n(&b->actual, __ATOMIC_RELAXED))};
	bool inside = off <= BALLOON_CONFIG_SIZE && len <= BALLOON_CONFIG_SIZE - off;
	if (write && inside && off == 4 && len == 4) {
		uint32_t le;
		memcpy(&le, data, 4);
		__atomic_store_n(&b->actual, le32toh(le), __ATOMIC_RELAXED);
	} else if (!write) {
		memset(data, 0, len);
		if (inside)
			memcpy(data, (uint8_t *)cfg + off, len);
	}
}

void virtio_balloon_set_target(struct virtio_dev *dev, uint32_t pages)
{
	struct virtio_balloon *b = dev->priv;
	__atomic_store_n(&b->target, pages, __ATOMIC_RELAXED);
	virtio_config_changed(dev);
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
