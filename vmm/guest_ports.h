// SPDX-License-Identifier: Apache-2.0
// The guest-ABI ports (guest-init/abi.h) as one PIO device: the vCPU that takes a port write
// stamps it and ends the run where the write says so; everything else becomes an event the I/O
// thread takes (guest_ports.c).
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../guest-init/abi.h"
#include "config.h"

struct vm;

enum guest_event_kind {
	GUEST_EVENT_NONE,
	GUEST_EVENT_MILESTONE,	  // a: ABI_MILESTONE_*
	GUEST_EVENT_APP_EXITED,	  // a: the pod's app, b: its status
	GUEST_EVENT_ENTER_STATUS, // a: an enter session, b: its command's status
	GUEST_EVENT_ENTER_DONE,	  // a: an enter session, over in the guest
};

struct guest_event {
	enum guest_event_kind kind;
	unsigned a;
	int b;
};

// Pending events as state, not a queue: a guest that writes faster than the I/O thread takes
// can merge repeats of one kind (the last status wins), never lose a kind or grow memory.
struct guest_ports {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t milestones;		 // bit N: milestone N reached, not yet taken
	int app_status[CONFIG_MAX_APPS]; // -1: nothing new
	int enter_status[ABI_ENTER_SESSIONS]; // -1: nothing new
	unsigned enter_done;		      // a bit per session
	int wake_fd; // an eventfd the I/O thread watches: written when an event is pending
};

// Plugs the ports into vm->pio. 0 or -errno (logged).
int guest_ports_init(struct guest_ports *gp, struct vm *vm);
void guest_ports_close(struct guest_ports *gp);
// The I/O thread: the next pending event, in the order milestones, app exits, enter status,
// enter done; false when there is none.
bool guest_ports_take(struct guest_ports *gp, struct guest_event *ev);
