// SPDX-License-Identifier: Apache-2.0
// A stopped VM's state, to save as a template and to set back in a new VM (snapshot.c).
#pragma once

#include <linux/kvm.h>
#include <stdint.h>

#include "config.h"
#include "virtio/mmio.h"

#define SNAP_MAX_MSRS 256

struct snap_vcpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp_state;
	struct kvm_vcpu_events events;
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[SNAP_MAX_MSRS];
};

struct snap_vm {
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

struct snapshot {
	struct snap_vm vm;
	unsigned nvcpus, ndevs;
	struct snap_vcpu vcpus[CONFIG_MAX_CPUS];
	struct virtio_dev_state devs[LAYOUT_VIRTIO_SLOTS];
};

struct vm;
// The state of a VM whose vCPU threads have all stopped (each left KVM_RUN with its last
// exit completed). 0 or -errno (logged).
int snapshot_save(struct vm *vm, struct snapshot *s);
// Sets s back into vm, built with the same vCPUs and devices and not yet run. 0 or -errno (logged).
int snapshot_restore(struct vm *vm, const struct snapshot *s);
// s as a file and back: a header (magic, version, key, sizes) then the vCPUs and devices.
// snapshot_read checks everything it can before it is used: -ESTALE when the file is not for
// `key` or this clearvm. 0 or -errno.
int snapshot_write(int fd, const struct snapshot *s, uint64_t key, uint64_t mem_size);
int snapshot_read(int fd, struct snapshot *s, uint64_t key, uint64_t mem_size, unsigned nvcpus);
