// SPDX-License-Identifier: Apache-2.0
// virtio-balloon free page reporting: a reported page's host memory is released, the guest
// reads zeros there afterwards, pages not reported keep their contents, and a bad chain
// breaks only the device. Inflation: the target the driver reads, and the pages it names on
// the inflate queue given back (those outside RAM left alone).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/virtio/devices.h"

#define RAM (4u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QSIZE 8
#define REPORTING_Q 2
#define PAGE_A 0x100000 // reported
#define PAGE_B 0x200000 // not reported

static unsigned irqs;
static void count_irq(void *ctx, unsigned irq)
{
	(void)ctx;
	(void)irq;
	irqs++;
}

static void desc(uint8_t *ram, unsigned i, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint8_t *d = ram + DESC + 16 * i;
	uint16_t next = 0;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(uint8_t *ram, uint16_t idx, uint16_t head)
{
	memcpy(ram + AVAIL + 4 + 2 * (idx % QSIZE), &head, 2);
	uint16_t next = (uint16_t)(idx + 1);
	memcpy(ram + AVAIL + 2, &next, 2);
}

static long blocks(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (long)st.st_blocks : -1;
}

// A device whose destroy takes the device lock, as a server thread may until destroy has
// stopped it: the lock must still be there then (glibc refuses a destroyed mutex: EINVAL).
static int lock_in_destroy = -1;
static void locking_destroy(struct virtio_dev *dev)
{
	lock_in_destroy = pthread_mutex_lock(&dev->lock);
	if (lock_in_destroy == 0)
		pthread_mutex_unlock(&dev->lock);
}

static void test_teardown_order(void)
{
	static const struct virtio_dev_ops ops = {.destroy = locking_destroy};
	struct virtio_dev *dev = calloc(1, sizeof(*dev));
	virtio_dev_init(dev, 5, 0, 1, &ops, dev);
	virtio_dev_free(dev);
	is(lock_in_destroy, 0, "a device's destroy can still take its lock (freed after it)");
}

static void test_inflate(void)
{
	int fd = memfd_create("test-ram", MFD_CLOEXEC);
	ftruncate(fd, RAM);
	uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct guest_mem mem = {ram, RAM};
	memset(ram + 0x300000, 0xcc, 6 * 4096); // pages 0x300..0x305
	struct virtio_dev *dev;
	is(virtio_balloon_new(fd, NULL, &dev), 0, "inflate: a device");
	dev->mem = &mem;
	dev->raise_irq = count_irq;
	dev->status = 0xf;
	unsigned irqs_before = irqs;
	uint32_t gen = dev->config_gen;
	virtio_balloon_set_target(dev, 1234);
	ok(irqs == irqs_before + 1 && (dev->isr & 2) && dev->config_gen != gen,
	   "a new target: a configuration change, interrupted");
	uint8_t cfg[4];
	uint32_t v;
	dev->ops->config(dev, 0, cfg, 4, false);
	memcpy(&v, cfg, 4);
	is(v, 1234u, "num_pages reads the target");
	v = 77;
	memcpy(cfg, &v, 4);
	dev->ops->config(dev, 4, cfg, 4, true);
	dev->ops->config(dev, 0, cfg, 4, true); // num_pages is not the driver's to write
	dev->ops->config(dev, 4, cfg, 4, false);
	memcpy(&v, cfg, 4);
	is(v, 77u, "actual reads what the driver wrote");
	dev->ops->config(dev, 0, cfg, 4, false);
	memcpy(&v, cfg, 4);
	is(v, 1234u, "and num_pages stays the target");
	memset(cfg, 0xff, 4);
	dev->ops->config(dev, 14, cfg, 4, false);
	ok(!cfg[0] && !cfg[3], "a read past the configuration: zeros");

	// Pages 0x300, 0x301 and 0x305, then one far outside RAM.
	uint32_t pfns[4] = {0x300, 0x301, 0x305, 0xffffff};
	memcpy(ram + 0x5000, pfns, sizeof(pfns));
	struct virtq *vq = &dev->vq[0];
	*vq = (struct virtq){.size = QSIZE, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED};
	desc(ram, 0, 0x5000, sizeof(pfns), 0); // device-readable
	offer(ram, 0, 0);
	memset(ram + USED, 0, 4096); // in place beforehand, as the pages but the given ones
	long before = blocks(fd);
	dev->ops->notify(dev, 0);
	long after = blocks(fd);
	ok(after <= before - 24, "the memfd gave back the 3 pages (%ld -> %ld blocks)", before, after);
	ok(ram[0x300000] == 0 && ram[0x301fff] == 0 && ram[0x305000] == 0, "they read as zero");
	ok(ram[0x302000] == 0xcc && ram[0x304fff] == 0xcc, "the pages between keep their contents");
	uint16_t used_idx;
	memcpy(&used_idx, ram + USED + 2, 2);
	ok(used_idx == 1 && !(dev->status & 0x40),
	   "the buffer is returned; a page outside RAM is passed over, not a broken device");
	virtio_dev_free(dev);
	munmap(ram, RAM);
	close(fd);
	irqs = 0;
}

int main(void)
{
	test_teardown_order();
	test_inflate();
	int fd = memfd_create("test-ram", MFD_CLOEXEC);
	ok(fd >= 0 && ftruncate(fd, RAM) == 0, "guest RAM as a memfd");
	uint8_t *ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct guest_mem mem = {ram, RAM};
	memset(ram + PAGE_A, 0xaa, 8192);
	memset(ram + PAGE_B, 0xbb, 4096);

	uint64_t reported = 0;
	struct virtio_dev *dev;
	is(virtio_balloon_new(fd, &reported, &dev), 0, "device created");
	dev->mem = &mem;
	dev->raise_irq = count_irq;
	struct virtq *vq = &dev->vq[REPORTING_Q];
	*vq = (struct virtq){.size = QSIZE, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED};
	dev->status = 0xf; // DRIVER_OK

	desc(ram, 0, PAGE_A, 8192, 2); // device-writable, as page reporting posts them
	offer(ram, 0, 0);
	memset(ram + USED, 0, 4096); // every page but the reported ones in place beforehand
	long before = blocks(fd);
	dev->ops->notify(dev, REPORTING_Q);
	long after = blocks(fd); // before anything reads the hole back in
	ok(after <= before - 16, "the memfd gave back the 8 KiB (%ld -> %ld blocks)", before, after);
	uint16_t used_idx;
	memcpy(&used_idx, ram + USED + 2, 2);
	is(used_idx, 1, "the report is returned to the driver");
	ok(irqs == 1, "and the driver is interrupted");
	ok(ram[PAGE_A] == 0 && ram[PAGE_A + 8191] == 0, "the reported pages read as zero");
	ok(ram[PAGE_B] == 0xbb, "a page not reported keeps its contents");
	is(reported, 8192, "the bytes given back are counted");

	desc(ram, 1, RAM - 4096, 8192, 2); // runs past the end of guest RAM
	offer(ram, 1, 1);
	dev->ops->notify(dev, REPORTING_Q);
	ok(dev->status & 0x40, "a report outside guest RAM: the device needs a reset");
	ok(ram[PAGE_B] == 0xbb && reported == 8192, "and nothing was given back");
	virtio_dev_free(dev);
	munmap(ram, RAM);
	close(fd);
	return tap_done();
}
