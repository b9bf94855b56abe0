// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the virtqueue walk over guest RAM the guest controls. The input is the queue's
// state (size, ring addresses, indices) then the contents of a 64 KiB guest RAM. Every chain
// taken is filled and returned, as a device would; nothing may touch memory outside RAM.
#include <stdlib.h>
#include <string.h>

#include "../../vmm/virtio/virtq.h"
#include "fuzz.h"

#define RAM (64u << 10)

struct state {
	uint64_t desc, avail, used;
	uint16_t size, last_avail, used_idx, pad;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st;
	if (size < sizeof(st))
		return 0;
	memcpy(&st, data, sizeof(st));
	uint8_t *ram = calloc(1, RAM); // exactly RAM bytes: ASan sees any access past it
	if (!ram)
		return 0;
	memcpy(ram, data + sizeof(st), size - sizeof(st) < RAM ? size - sizeof(st) : RAM);
	struct guest_mem mem = {ram, RAM};
	struct virtq vq = {.size = st.size, .ready = true, .desc = st.desc, .avail = st.avail,
			   .used = st.used, .last_avail = st.last_avail, .used_idx = st.used_idx};
	static struct virtq_chain chain;
	static const uint8_t fill[256];
	for (unsigned i = 0; i < 2u * VIRTQ_MAX_SIZE; i++) {
		int r = virtq_pop(&vq, &mem, &chain);
		if (r <= 0)
			break;
		if (chain.nout > VIRTQ_MAX_SIZE || chain.nin > VIRTQ_MAX_SIZE)
			abort();
		uint8_t sink[256];
		iov_to_buf(chain.out, chain.nout, sink, sizeof(sink));
		size_t put = buf_to_iov(chain.in, chain.nin, fill, sizeof(fill));
		virtq_push(&vq, &mem, chain.head, (uint32_t)put);
	}
	virtq_set_notify(&vq, &mem, st.pad & 1);
	virtq_want_interrupt(&vq, &mem);
	free(ram);
	return 0;
}
