// SPDX-License-Identifier: Apache-2.0
// One VM: its KVM fds, guest RAM, vCPUs, buses and devices, and how the run ended.
#pragma once

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "../firmware/layout.h"
#include "bus.h"
#include "config.h"
#include "guest_ports.h"
#include "guestmem.h"
#include "plan.h"
#include "trace.h"
#include "virtio/devices.h"

struct vm;
struct template;
struct io_thread;
struct net_backend;

#define VM_STATUS_TEMPLATE_READY (-2) // vm->status once a template boot reached its point

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct vm {
	const struct vm_config *cfg;
	enum vm_mode mode;          // set before vm_build
	const struct template *tpl; // VM_RESTORE: the template to set back
	struct trace *trace;        // the run's: phases stamped, exits counted, memory reported
	int kvm_fd, vm_fd, mem_fd;
	struct guest_mem mem;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;
	struct vcpu vcpus[CONFIG_MAX_CPUS];
	unsigned nvcpus;
	struct bus pio, mmio;
	struct guest_ports ports; // guest-init's status, milestones, app exits, enter statuses
	struct virtio_dev *devs[LAYOUT_VIRTIO_SLOTS];
	unsigned ndevs;
	struct virtio_dev *console;
	struct virtio_dev *nic; // NULL: --network none
	struct virtio_dev *balloon;
	const struct net_backend *net; // the network's backend (set before vm_build; NULL: none)
	char cmdline[LAYOUT_CMDLINE_MAX];
	uint64_t entry;

	// How the run ended, guarded by lock; `done` wakes the main thread.
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done_fd; // an eventfd written once `done` is set (a wait that also watches signals)
	bool done;
	int status;         // the workload's status, or EXIT_CLEARVM_FAILED
	char why[160];      // set when the VM failed
};

// The one linear recipe: KVM, memory, irqchip, vCPUs, devices, firmware tables, kernel.
int vm_build(struct vm *vm, const struct vm_config *cfg);
// Runs the vCPUs, with io's thread serving them, until the workload's status is reported,
// the guest dies, or the timeout.
int vm_run(struct vm *vm, struct io_thread *io);
// VM_TEMPLATE_BUILD: runs the vCPUs until guest-init is ready for a spec, and stops them
// there. 0 or -errno (logged).
int vm_run_template(struct vm *vm);
void vm_destroy(struct vm *vm);
// Called by a vCPU thread: the run is over with `status` (why: NULL when the guest reported).
void vm_finish(struct vm *vm, int status, const char *why);

// vcpu.c
int vcpu_create(struct vm *vm, unsigned index);
int vcpu_setup_boot(struct vcpu *vcpu, uint64_t entry);
void *vcpu_thread(void *arg);
// kvm.c
int kvm_open_checked(struct vm *vm);
// The CPUID KVM offers on this host (calloc'd), or -errno.
int kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out);
// serial.c
void serial_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write);
