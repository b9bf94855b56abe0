// SPDX-License-Identifier: Apache-2.0
// Template state files: what is written reads back whole; a file for other inputs, of another
// layout, cut short or claiming more than it may is refused (-ESTALE) before any of it is used;
// a device state whose queue lies outside guest RAM is refused too.
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/snapshot.h"
#include "../../vmm/virtio/devices.h"

#define KEY 0x1234abcdULL
#define MEM (256ULL << 20)

static int fresh(void)
{
	int fd = memfd_create("state", 0);
	return fd;
}

static int written(const struct snapshot *s)
{
	int fd = fresh();
	if (snapshot_write(fd, s, KEY, MEM) != 0)
		return -1;
	return fd;
}

int main(void)
{
	static struct snapshot s, back;
	s.nvcpus = 2;
	s.ndevs = 3;
	s.vcpus[1].regs.rip = 0xffffffff81000000ULL;
	s.vcpus[1].nmsrs = 2;
	s.vcpus[1].msrs[1].index = 0x6e0;
	s.vm.clock.clock = 123456789;
	s.devs[2].device_id = 9;
	s.devs[2].vq[0].size = 128;

	int fd = written(&s);
	is(snapshot_read(fd, &back, KEY, MEM, 2), 0, "a state file reads back");
	ok(back.nvcpus == 2 && back.ndevs == 3 && back.vcpus[1].regs.rip == s.vcpus[1].regs.rip &&
	   back.vcpus[1].nmsrs == 2 && back.vcpus[1].msrs[1].index == 0x6e0 &&
	   back.vm.clock.clock == 123456789 && back.devs[2].device_id == 9 && back.devs[2].vq[0].size == 128,
	   "every part of it as written");
	is(snapshot_read(fd, &back, KEY + 1, MEM, 2), -ESTALE, "made for other inputs (key): refused");
	is(snapshot_read(fd, &back, KEY, MEM * 2, 2), -ESTALE, "for another memory size: refused");
	is(snapshot_read(fd, &back, KEY, MEM, 1), -ESTALE, "for another vCPU count: refused");
	off_t size = lseek(fd, 0, SEEK_END);
	ftruncate(fd, size - 1);
	is(snapshot_read(fd, &back, KEY, MEM, 2), -ESTALE, "cut short by a byte: refused");
	ftruncate(fd, 10);
	is(snapshot_read(fd, &back, KEY, MEM, 2), -ESTALE, "cut inside the header: refused");
	close(fd);

	fd = written(&s);
	uint8_t byte = 'X';
	pwrite(fd, &byte, 1, 0);
	is(snapshot_read(fd, &back, KEY, MEM, 2), -ESTALE, "another magic: refused");
	close(fd);

	s.vcpus[0].nmsrs = SNAP_MAX_MSRS + 1;
	fd = written(&s);
	is(snapshot_read(fd, &back, KEY, MEM, 2), -ESTALE, "a vCPU claiming more MSRs than there is room for: refused");
	close(fd);
	s.vcpus[0].nmsrs = 0;

	// A device's saved queue is guest input like any other.
	uint8_t *ram = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct guest_mem mem = {.base = ram, .size = 1 << 20};
	struct virtio_dev *dev;
	int fds[1] = {-1};
	const char *names[1] = {"p"};
	is(virtio_console_new(fds, names, 1, &dev), 0, "a console to restore into");
	dev->mem = &mem;
	struct virtio_dev_state st;
	is(virtio_dev_save(dev, &st), 0, "its state saved");
	st.vq[0] = (struct virtq){.size = 32, .ready = true, .desc = 0x1000, .avail = 0x2000, .used = 0x3000};
	is(virtio_dev_restore(dev, &st), 0, "a queue inside guest RAM: restored");
	st.vq[0].used = 0x7fffffff;
	is(virtio_dev_restore(dev, &st), -EINVAL, "a ready queue outside guest RAM: refused");
	st.vq[0].used = 0x3000;
	st.vq[1].size = 4096;
	is(virtio_dev_restore(dev, &st), -EINVAL, "a queue larger than the device allows: refused");
	st.vq[1].size = 0;
	st.device_id = 9;
	is(virtio_dev_restore(dev, &st), -EINVAL, "another kind of device: refused");
	st.device_id = 3;
	st.own_len = 3;
	is(virtio_dev_restore(dev, &st), -EINVAL, "a console's own state of the wrong size: refused");
	virtio_dev_free(dev);
	return tap_done();
}
