// SPDX-License-Identifier: Apache-2.0
// Split virtqueue walk (virtio 1.2, 2.7) over guest memory the guest can change at any time:
// each field is read once, each index reduced modulo the size, each address bounds-checked.
#include <errno.h>
#include <string.h>

#include "virtq.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint64_t desc_bytes(uint16_t size)
{
	return 16ULL * size;
}
static uint64_t avail_bytes(uint16_t size)
{
	return 6 + 2ULL * size;
}
static uint64_t used_bytes(uint16_t size)
{
	return 6 + 8ULL * size;
}

bool virtq_valid(const struct virtq *vq, const struct guest_mem *mem)
{
	return vq->size && vq->size <= VIRTQ_MAX_SIZE && !(vq->size & (vq->size - 1)) &&
	       gpa_ptr(mem, vq->desc, desc_bytes(vq->size)) &&
	       gpa_ptr(mem, vq->avail, avail_bytes(vq->size)) &&
	       gpa_ptr(mem, vq->used, used_bytes(vq->size));
}

static uint16_t load16(const void *p)
{
	uint16_t v;
	__atomic_load(( const uint16_t *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

int virtq_pop(struct virtq *vq, const struct guest_mem *mem, struct virtq_chain *chain)
{
	if (!vq->ready || !virtq_valid(vq, mem))
		return -EINVAL;
	uint8_t *avail = gpa_ptr(mem, vq->avail, avail_bytes(vq->size));
	uint16_t avail_idx = load16(avail + 2);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return -EINVAL;
	uint16_t head = load16(avail + 4 + 2 * (vq->last_avail % vq->size));
	if (head >= vq->size)
		return -EINVAL;
	vq->last_avail++;

	const struct virtq_desc *table = gpa_ptr(mem, vq->desc, desc_bytes(vq->size));
	chain->head = head;
	chain->nout = chain->nin = 0;
	chain->out_len = chain->in_len = 0;
	uint16_t i = head;
	for (unsigned steps = 0;; steps++) {
		if (steps >= vq->size) // more links than descriptors: a loop
			return -EINVAL;
		struct virtq_desc d;
		memcpy(&d, &table[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) // not offered, so never valid
			return -EINVAL;
		void *p = gpa_ptr(mem, d.addr, d.len);
		if (!p)
			return -EINVAL;
		struct iovec iov = {.iov_base = p, .iov_len = d.len};
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			chain->in[chain->nin++] = iov;
			chain->in_len += d.len;
		} else {
			if (chain->nin) // readable after writable breaks the spec
				return -EINVAL;
			chain->out[chain->nout++] = iov;
			chain->out_len += d.len;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= vq->size)
			return -EINVAL;
		i = d.next;
	}
	return 1;
}

int virtq_push_many(struct virtq *vq, const struct guest_mem *mem, const struct virtq_used *u, unsigned n)
{
	uint8_t *used = gpa_ptr(mem, vq->used, used_bytes(vq->size));
	if (!used || !vq->size || n > vq->size)
		return -EINVAL;
	uint16_t idx = vq->used_idx;
	for (unsigned i = 0; i < n; i++, idx++) {
		uint8_t *elem = used + 4 + 8 * (idx % vq->size);
		uint32_t id = u[i].head;
		memcpy(elem, &id, 4);
		memcpy(elem + 4, &u[i].written, 4);
	}
	vq->used_idx = idx;
	__atomic_store((uint16_t *)(used + 2), &vq->used_idx, __ATOMIC_RELEASE);
	return 0;
}

int virtq_push(struct virtq *vq, const struct guest_mem *mem, uint16_t head, uint32_t written)
{
	return virtq_push_many(vq, mem, &(struct virtq_used){.head = head, .written = written}, 1);
}

void virtq_unpop(struct virtq *vq, uint16_t n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

bool virtq_set_notify(struct virtq *vq, const struct guest_mem *mem, bool want)
{
	if (!vq->ready || !virtq_valid(vq, mem))
		return false;
	uint8_t *used = gpa_ptr(mem, vq->used, used_bytes(vq->size));
	uint16_t flags = want ? 0 : VIRTQ_USED_F_NO_NOTIFY;
	__atomic_store((uint16_t *)used, &flags, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); // the flag before the index read (2.7.10)
	const uint8_t *avail = gpa_ptr(mem, vq->avail, avail_bytes(vq->size));
	return load16(avail + 2) != vq->last_avail;
}

bool virtq_want_interrupt(const struct virtq *vq, const struct guest_mem *mem)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	const uint8_t *avail = gpa_ptr(mem, vq->avail, 2);
	return !avail || !(load16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		size_t c = MIN(iov[i].iov_len, len - done);
		memcpy((uint8_t *)buf + done, iov[i].iov_base, c);
		done += c;
	}
	return done;
}

size_t buf_to_iov(const struct iovec *iov, unsigned n, const void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		size_t c = MIN(iov[i].iov_len, len - done);
		memcpy(iov[i].iov_base, (const uint8_t *)buf + done, c);
		done += c;
	}
	return done;
}
