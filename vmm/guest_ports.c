// SPDX-License-Identifier: Apache-2.0
// The guest-ABI ports: what guest-init writes to ABI_EXIT_PORT..ABI_ENTER_EXIT_PORT. The exit
// status and the template point end the run on the vCPU that took the write (they only touch
// memory); milestones, app exits and rkt enter statuses are stamped there and handed to the I/O
// thread, which writes rkt's status files and answers enter clients, so a vCPU thread never
// makes a file system call.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../guest-init/abi.h"
#include "guest_ports.h"
#include "vm.h"

#define PORTS_BASE ABI_EXIT_PORT
#define PORTS_LEN (ABI_ENTER_EXIT_PORT + 4 - ABI_EXIT_PORT)

static void wake(struct guest_ports *gp)
{
	uint64_t one = 1;
	if (write(gp->wake_fd, &one, sizeof(one)) < 0)
		log_debug("guest ports: wake: %s", strerror(errno));
}

// Stops every vCPU at its next exit: the template is saved at this point, not past it.
static void template_point(struct vm *vm)
{
	log_debug("template point at %.1f ms", trace_elapsed_ms(vm->trace));
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].run)
			__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_RELEASE);
	vm_finish(vm, VM_STATUS_TEMPLATE_READY, NULL);
}

static void milestone(struct guest_ports *gp, uint8_t m)
{
	struct vm *vm = gp->vm;
	static const enum trace_phase phase[] = {
	    [ABI_MILESTONE_INIT] = TRACE_INIT,
	    [ABI_MILESTONE_ROOT] = TRACE_ROOT,
	    [ABI_MILESTONE_EXEC] = TRACE_EXEC,
	};
	if (m == ABI_MILESTONE_TEMPLATE) {
		if (vm->mode == VM_TEMPLATE_BUILD) // else a restored guest-init, past that point
			template_point(vm);
		return;
	}
	if (m < ABI_MILESTONE_INIT || m > ABI_MILESTONE_EXEC)
		return;
	trace_mark(vm->trace, phase[m]); // stamped here: when the guest got there
	log_debug("milestone %u at %.1f ms", m, trace_elapsed_ms(vm->trace));
	pthread_mutex_lock(&gp->lock);
	gp->milestones |= 1U << m;
	pthread_mutex_unlock(&gp->lock);
	wake(gp);
}

static void app_exited(struct guest_ports *gp, uint32_t v)
{
	unsigned app = v >> 16;
	log_debug("app %u ended with %u at %.1f ms", app, v & 0xff,
		  trace_elapsed_ms(gp->vm->trace));
	if (app >= gp->vm->cfg->napps)
		return;
	pthread_mutex_lock(&gp->lock);
	gp->app_status[app] = (int)(v & 0xff);
	pthread_mutex_unlock(&gp->lock);
	wake(gp);
}

static void enter_port(struct guest_ports *gp, uint32_t v)
{
	unsigned session = ABI_ENTER_REPORT_SESSION(v);
	if (session >= ABI_ENTER_SESSIONS)
		return;
	pthread_mutex_lock(&gp->lock);
	if (v & ABI_ENTER_DONE)
		gp->enter_done |= 1U << session;
	else
		gp->enter_status[session] = (int)(v & 0xff);
	pthread_mutex_unlock(&gp->lock);
	wake(gp);
}

// A vCPU thread: a port write (reads see a floating bus).
static void ports_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	struct guest_ports *gp = opaque;
	struct vm *vm = gp->vm;
	if (!write) {
		memset(data, 0xff, len);
		return;
	}
	uint32_t v = 0;
	if (len == 4)
		memcpy(&v, data, 4);
	switch (PORTS_BASE + off) {
	case ABI_EXIT_PORT:
		if (len != 4)
			return;
		trace_mark(vm->trace, TRACE_EXITED);
		log_debug("status %u reported at %.1f ms", v, trace_elapsed_ms(vm->trace));
		vm_finish(vm, (int)(v & 0xff), NULL);
		break;
	case ABI_MILESTONE_PORT: milestone(gp, data[0]); break;
	case ABI_APP_EXIT_PORT:
		if (len == 4)
			app_exited(gp, v);
		break;
	case ABI_ENTER_EXIT_PORT:
		if (len == 4)
			enter_port(gp, v);
		break;
	default: break;
	}
}

int guest_ports_init(struct guest_ports *gp, struct vm *vm)
{
	gp->vm = vm;
	pthread_mutex_init(&gp->lock, NULL);
	gp->milestones = 0;
	for (unsigned i = 0; i < CONFIG_MAX_APPS; i++)
		gp->app_status[i] = -1;
	for (unsigned i = 0; i < ABI_ENTER_SESSIONS; i++)
		gp->enter_status[i] = -1;
	gp->enter_done = 0;
	gp->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (gp->wake_fd < 0)
		return log_err(errno, "guest ports: eventfd");
	int r = bus_add(&vm->pio, PORTS_BASE, PORTS_LEN, ports_access, gp);
	return r < 0 ? log_err(r, "guest ports") : 0;
}

void guest_ports_close(struct guest_ports *gp)
{
	if (gp->wake_fd >= 0)
		close(gp->wake_fd);
	gp->wake_fd = -1;
}

bool guest_ports_take(struct guest_ports *gp, struct guest_event *ev)
{
	*ev = (struct guest_event){.kind = GUEST_EVENT_NONE};
	pthread_mutex_lock(&gp->lock);
	if (gp->milestones) {
		unsigned m = (unsigned)__builtin_ctz(gp->milestones);
		gp->milestones &= ~(1U << m);
		*ev = (struct guest_event){.kind = GUEST_EVENT_MILESTONE, .a = m};
	}
	for (unsigned i = 0; i < CONFIG_MAX_APPS && ev->kind == GUEST_EVENT_NONE; i++) {
		if (gp->app_status[i] < 0)
			continue;
		*ev = (struct guest_event){
		    .kind = GUEST_EVENT_APP_EXITED, .a = i, .b = gp->app_status[i]};
		gp->app_status[i] = -1;
	}
	for (unsigned i = 0; i < ABI_ENTER_SESSIONS && ev->kind == GUEST_EVENT_NONE; i++) {
		if (gp->enter_status[i] < 0)
			continue;
		*ev = (struct guest_event){.kind = GUEST_EVENT_ENTER_STATUS, .a = i, .b = gp->enter_status[i]};
		gp->enter_status[i] = -1;
	}
	// A session's status before its end (guest-init reports them in that order).
	for (unsigned i = 0; i < ABI_ENTER_SESSIONS && ev->kind == GUEST_EVENT_NONE; i++) {
		if (!(gp->enter_done & (1U << i)))
			continue;
		*ev = (struct guest_event){.kind = GUEST_EVENT_ENTER_DONE, .a = i};
		gp->enter_done &= ~(1U << i);
	}
	pthread_mutex_unlock(&gp->lock);
	return ev->kind != GUEST_EVENT_NONE;
}
