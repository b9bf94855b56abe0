// SPDX-License-Identifier: Apache-2.0
// The I/O thread's readiness watches on io_uring: one-shot POLL_ADDs kept armed across waits,
// replaced only when a slot changes, and one io_uring_enter per wait with the deadline as its
// argument (IORING_FEAT_EXT_ARG). The ring is created disabled, restricted to POLL_ADD and
// POLL_REMOVE, then enabled.
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "ioring.h"
#include "util.h"

#define SLOT_BITS 8 // user_data: generation << SLOT_BITS | slot

int ioring_init(struct ioring *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < IORING_SLOTS; i++)
		r->fd[i] = -1;
	int e = io_uring_queue_init(2 * IORING_SLOTS, &r->ring, IORING_SETUP_R_DISABLED);
	if (e < 0)
		return e;
	struct io_uring_restriction res[2] = {
		{.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_POLL_ADD},
		{.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_POLL_REMOVE},
	};
	if (!(r->ring.features & IORING_FEAT_EXT_ARG))
		e = -EOPNOTSUPP; // waits with a deadline need it (Linux 5.11)
	e = e ?: io_uring_register_restrictions(&r->ring, res, ARRAY_SIZE(res));
	e = e ?: io_uring_enable_rings(&r->ring);
	if (e < 0) {
		io_uring_queue_exit(&r->ring);
		return e;
	}
	r->ready = true;
	return 0;
}

void ioring_exit(struct ioring *r)
{
	if (r->ready)
		io_uring_queue_exit(&r->ring);
	r->ready = false;
}

static struct io_uring_sqe *sqe(struct ioring *r)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&r->ring);
	if (!s) { // full: what is queued goes in first (two per slot always fit after that)
		io_uring_submit(&r->ring);
		s = io_uring_get_sqe(&r->ring);
	}
	return s;
}

static uint64_t tag(const struct ioring *r, unsigned slot)
{
	return (uint64_t)r->gen[slot] << SLOT_BITS | slot;
}

void ioring_want(struct ioring *r, unsigned slot, int fd, short events)
{
	if (slot >= IORING_SLOTS)
		return;
	if (r->armed[slot] && r->fd[slot] == fd && r->events[slot] == events)
		return;
	struct io_uring_sqe *s;
	if (r->armed[slot] && (s = sqe(r))) {
		io_uring_prep_poll_remove(s, tag(r, slot));
		io_uring_sqe_set_data64(s, UINT64_MAX); // its own answer matches no slot
	}
	r->armed[slot] = false;
	r->gen[slot]++; // whatever the old watch still reports is dropped
	r->fd[slot] = fd;
	r->events[slot] = events;
	if (fd >= 0 && (s = sqe(r))) {
		io_uring_prep_poll_add(s, fd, (unsigned)events);
		io_uring_sqe_set_data64(s, tag(r, slot));
		r->armed[slot] = true;
	}
}

int ioring_wait(struct ioring *r, int timeout_ms, short *revents)
{
	memset(revents, 0, IORING_SLOTS * sizeof(*revents));
	struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000LL};
	struct io_uring_cqe *cqe;
	int e = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, timeout_ms < 0 ? NULL : &ts, NULL);
	if (e < 0 && e != -ETIME && e != -EINTR)
		return e;
	int fired = 0;
	unsigned head, seen = 0;
	io_uring_for_each_cqe(&r->ring, head, cqe) {
		seen++;
		uint64_t data = io_uring_cqe_get_data64(cqe);
		unsigned slot = (unsigned)(data & ((1u << SLOT_BITS) - 1));
		if (cqe->flags & IORING_CQE_F_MORE || slot >= IORING_SLOTS || data != tag(r, slot))
			continue; // a removal's answer, or a watch replaced since
		r->armed[slot] = false; // one-shot: armed again by the next want
		revents[slot] = cqe->res < 0 ? POLLERR : (short)cqe->res;
		fired++;
	}
	io_uring_cq_advance(&r->ring, seen);
	return fired;
}
