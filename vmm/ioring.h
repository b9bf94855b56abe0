// SPDX-License-Identifier: Apache-2.0
// The I/O thread's one wait (ioring.c): fd readiness watches on one io_uring. Each slot is a
// one-shot poll that stays armed in the kernel until it fires or the slot's fd or events
// change, so an iteration that changes nothing costs one io_uring_enter and no re-arming, and
// nothing wakes the thread but an event or the deadline it asked for.
#pragma once

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#define IORING_SLOTS 32

struct ioring {
	struct io_uring ring;
	bool ready;
	int fd[IORING_SLOTS];
	short events[IORING_SLOTS];
	bool armed[IORING_SLOTS];
	uint32_t gen[IORING_SLOTS]; // in user_data: a completion of a poll since replaced is dropped
};

// Sets the ring up, restricted to poll requests (the thread that waits on it can make the
// kernel do nothing else through it). Before the I/O thread's seccomp filter. 0 or -errno.
int ioring_init(struct ioring *r);
void ioring_exit(struct ioring *r);
// Slot i watches fd for events (POLLIN, POLLOUT) from the next wait on; fd -1: watches
// nothing. A caller that closes a watched fd sets its slot to -1 (or another fd) before it
// waits again, so that a watch never outlives the file it was made for.
void ioring_want(struct ioring *r, unsigned slot, int fd, short events);
// Submits the changes and waits until at least one watch fires or timeout_ms passes (-1: no
// deadline); revents[i] gets what fired on slot i (0: nothing). Returns how many fired, or
// -errno (a broken ring: the caller stops).
int ioring_wait(struct ioring *r, int timeout_ms, short *revents);
