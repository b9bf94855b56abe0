// SPDX-License-Identifier: Apache-2.0
// Split virtqueues: the device side of the available and used rings, with every guest index
// and address checked, and a descriptor chain walk bounded by the queue size.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../guestmem.h"

#define VIRTQ_MAX_SIZE 256U

struct virtq {
	uint16_t size;  // set by the driver, a power of two <= VIRTQ_MAX_SIZE
	bool ready;
	gpa_t desc, avail, used;
	uint16_t last_avail;
	uint16_t used_idx;
};

struct virtq_chain {
	uint16_t head;
	unsigned nout, nin;      // device-readable buffers first, then device-writable ones
	struct iovec out[VIRTQ_MAX_SIZE];
	struct iovec in[VIRTQ_MAX_SIZE];
	uint64_t out_len, in_len;
};

// True when the rings of a ready queue lie inside guest RAM and the size is valid.
bool virtq_valid(const struct virtq *vq, const struct guest_mem *mem);
// Takes the next available chain. 1: got one; 0: none; -EINVAL: the guest broke the queue
// (bad index, loop, address outside RAM, writable before readable): the device must reset.
int virtq_pop(struct virtq *vq, const struct guest_mem *mem, struct virtq_chain *chain);
// Returns a chain to the driver with `written` bytes put in its writable buffers.
int virtq_push(struct virtq *vq, const struct guest_mem *mem, uint16_t head, uint32_t written);
// Returns n chains at once, made visible to the driver together (one frame spread over several
// receive buffers must be seen whole). 0 or -EINVAL.
struct virtq_used {
	uint16_t head;
	uint32_t written;
};
int virtq_push_many(struct virtq *vq, const struct guest_mem *mem, const struct virtq_used *u, unsigned n);
// Gives the last n chains popped back to the available ring, untouched (a frame that did not
// fit the receive buffers there are yet waits for more).
void virtq_unpop(struct virtq *vq, uint16_t n);
// Asks the driver to notify, or not to, when it makes buffers available (VIRTQ_USED_F_NO_NOTIFY,
// virtio 1.2, 2.7.10): a device that takes buffers only when it has something for them (a
// receive queue) needs a notify only while it waits for one. Returns whether buffers are
// available, read after the flag is published: a caller that asked for a notify and gets true
// must take them itself, as the driver may have looked at the flag before it changed.
bool virtq_set_notify(struct virtq *vq, const struct guest_mem *mem, bool want);
// Whether the driver asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT).
bool virtq_want_interrupt(const struct virtq *vq, const struct guest_mem *mem);

// Copies between a chain's buffers and a flat buffer; each returns bytes copied.
size_t iov_to_buf(const struct iovec *iov, unsigned n, void *buf, size_t len);
size_t buf_to_iov(const struct iovec *iov, unsigned n, const void *buf, size_t len);
