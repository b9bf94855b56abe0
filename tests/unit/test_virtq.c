// SPDX-License-Identifier: Apache-2.0
// Virtqueue walk over guest memory the guest controls: good chains, and every way to break one.
#include <errno.h>
#include <stdbool.h>

#include "../harness/tap.h"
#include "../../vmm/virtio/virtq.h"

#define RAM 0x100000
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QSIZE 8

static uint8_t ram[RAM];
static struct guest_mem mem = {ram, RAM};

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + DESC + 16 * i;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(uint16_t idx, uint16_t head)
{
	memcpy(ram + AVAIL + 4 + 2 * (idx % QSIZE), &head, 2);
	uint16_t next = (uint16_t)(idx + 1);
	memcpy(ram + AVAIL + 2, &next, 2);
}

static struct virtq fresh(void)
{
	memset(ram, 0, 0x4000);
	return (struct virtq){.size = QSIZE, .ready = true, .desc = DESC, .avail = AVAIL, .used = USED};
}

int main(void)
{
	static struct virtq_chain c;
	struct virtq vq = fresh();
	is(virtq_pop(&vq, &mem, &c), 0, "empty queue: nothing to pop");

	desc(0, 0x10000, 100, 1, 1); // readable, next 1
	desc(1, 0x20000, 200, 2, 0); // writable, end
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), 1, "a two-descriptor chain");
	ok(c.nout == 1 && c.nin == 1 && c.out_len == 100 && c.in_len == 200, "one readable, one writable buffer");
	ok(c.out[0].iov_base == ram + 0x10000, "addresses translated into guest RAM");
	is(virtq_pop(&vq, &mem, &c), 0, "the chain is taken once");
	is(virtq_push(&vq, &mem, 0, 42), 0, "returned to the driver");
	uint16_t used_idx;
	uint32_t id, len;
	memcpy(&used_idx, ram + USED + 2, 2);
	memcpy(&id, ram + USED + 4, 4);
	memcpy(&len, ram + USED + 8, 4);
	ok(used_idx == 1 && id == 0 && len == 42, "used ring: index, id and length");

	vq = fresh();
	uint16_t flags;
	ok(!virtq_set_notify(&vq, &mem, false), "notify off: nothing available");
	memcpy(&flags, ram + USED, 2);
	is(flags, 1, "VIRTQ_USED_F_NO_NOTIFY set in the used ring");
	desc(0, 0x10000, 10, 2, 0);
	offer(0, 0);
	ok(virtq_set_notify(&vq, &mem, true), "notify on: a buffer posted meanwhile is seen");
	memcpy(&flags, ram + USED, 2);
	is(flags, 0, "VIRTQ_USED_F_NO_NOTIFY cleared");
	is(virtq_pop(&vq, &mem, &c), 1, "and taken");
	ok(!virtq_set_notify(&vq, &mem, true), "then nothing is left");
	vq.ready = false;
	ok(!virtq_set_notify(&vq, &mem, false), "a queue not ready is not touched");

	vq = fresh();
	desc(0, 0x10000, 10, 1, 1);
	desc(1, 0x10000, 10, 1, 0); // 1 -> 0 -> 1 ...
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a chain that loops is refused, not followed forever");

	vq = fresh();
	desc(0, RAM - 4, 16, 0, 0);
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a buffer running past the end of RAM");

	vq = fresh();
	desc(0, UINT64_MAX - 4, 16, 0, 0);
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a buffer address that wraps around");

	vq = fresh();
	desc(0, 0x10000, 16, 1, QSIZE);
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a next index outside the table");

	vq = fresh();
	offer(0, QSIZE + 3);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a head index outside the table");

	vq = fresh();
	uint16_t far = QSIZE + 5;
	memcpy(ram + AVAIL + 2, &far, 2);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "more available entries than the queue holds");

	vq = fresh();
	desc(0, 0x10000, 16, 2 | 1, 1); // writable then readable
	desc(1, 0x20000, 16, 0, 0);
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a readable buffer after a writable one");

	vq = fresh();
	desc(0, 0x10000, 16, 4, 0);
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "indirect descriptors were not offered");

	vq = fresh();
	vq.used = RAM - 8;
	ok(!virtq_valid(&vq, &mem), "a used ring past the end of RAM is invalid");
	vq = fresh();
	vq.size = 6;
	ok(!virtq_valid(&vq, &mem), "a queue size that is not a power of two is invalid");
	vq = fresh();
	vq.ready = false;
	is(virtq_pop(&vq, &mem, &c), -EINVAL, "a queue that is not ready is not walked");

	vq = fresh();
	for (unsigned i = 0; i < QSIZE; i++)
		desc(i, 0x10000, 1, i + 1 < QSIZE ? 1 : 0, (uint16_t)(i + 1));
	offer(0, 0);
	is(virtq_pop(&vq, &mem, &c), 1, "a chain as long as the queue is fine");
	is(c.nout, QSIZE, "all of its buffers");
	return tap_done();
}
