// SPDX-License-Identifier: Apache-2.0
// vCPUs: creation with filtered CPUID, the 64-bit boot state of the first one, and the exit
// loop each runs on its own thread.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "../firmware/firmware.h"
#include "vm.h"

#define CPUID_HYPERVISOR (1U << 31)
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT 0x700
#define APIC_MODE_NMI 0x400
#define X86_CR0_PE 0x1ULL
#define X86_CR0_ET 0x10ULL
#define X86_CR0_PG 0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

static int set_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *src = vcpu->vm->cpuid;
	size_t size = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	_cleanup_free_ struct kvm_cpuid2 *c = malloc(size);
	if (!c)
		return -ENOMEM;
	memcpy(c, src, size);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | (vcpu->index << 24); // initial APIC id
			e->ecx |= CPUID_HYPERVISOR;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = vcpu->index; // x2APIC id
		}
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		return log_err(errno, "KVM_SET_CPUID2");
	return 0;
}

// LINT0 takes the 8259's interrupts, LINT1 is NMI: what the MP table tells the kernel.
static int set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state la;
	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &la) < 0)
		return log_err(errno, "KVM_GET_LAPIC");
	uint32_t v;
	memcpy(&v, la.regs + APIC_LVT_LINT0, 4);
	v = (v & ~0x700U) | APIC_MODE_EXTINT;
	memcpy(la.regs + APIC_LVT_LINT0, &v, 4);
	memcpy(&v, la.regs + APIC_LVT_LINT1, 4);
	v = (v & ~0x700U) | APIC_MODE_NMI;
	memcpy(la.regs + APIC_LVT_LINT1, &v, 4);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &la) < 0)
		return log_err(errno, "KVM_SET_LAPIC");
	return 0;
}

int vcpu_create(struct vm *vm, unsigned index)
{
	struct vcpu *vcpu = &vm->vcpus[index];
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return log_err(errno, "KVM_CREATE_VCPU %u", index);
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return log_err(errno, "mmap kvm_run");
	}
	int r = set_cpuid(vcpu);
	return r ?: set_lapic(vcpu);
}

static struct kvm_segment segment_from_gdt(unsigned index)
{
	uint64_t e = fw_gdt_entry(index);
	return (struct kvm_segment){
		.base = (e >> 16 & 0xffffff) | (e >> 32 & 0xff000000),
		.limit = (uint32_t)((e & 0xffff) | (e >> 32 & 0xf0000)),
		.selector = (uint16_t)(index * 8),
		.type = (uint8_t)(e >> 40 & 0xf),
		.s = (uint8_t)(e >> 44 & 1),
		.dpl = (uint8_t)(e >> 45 & 3),
		.present = (uint8_t)(e >> 47 & 1),
		.avl = (uint8_t)(e >> 52 & 1),
		.l = (uint8_t)(e >> 53 & 1),
		.db = (uint8_t)(e >> 54 & 1),
		.g = (uint8_t)(e >> 55 & 1),
	};
}

// The 64-bit boot protocol: long mode, identity paging, flat segments, RSI = zero page.
int vcpu_setup_boot(struct vcpu *vcpu, uint64_t entry)
{
	struct kvm_sregs s;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return log_err(errno, "KVM_GET_SREGS");
	s.cs = segment_from_gdt(FW_BOOT_CS / 8);
	s.ds = s.es = s.fs = s.gs = s.ss = segment_from_gdt(FW_BOOT_DS / 8);
	s.tr = segment_from_gdt(FW_BOOT_TSS / 8);
	s.gdt.base = LAYOUT_GDT;
	s.gdt.limit = FW_GDT_ENTRIES * 8 - 1;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	s.cr3 = LAYOUT_PML4;
	s.cr4 = X86_CR4_PAE;
	s.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		return log_err(errno, "KVM_SET_SREGS");

	struct kvm_regs regs = {
		.rip = entry, .rsi = LAYOUT_BOOT_PARAMS, .rsp = LAYOUT_BOOT_STACK,
		.rbp = LAYOUT_BOOT_STACK, .rflags = 0x2,
	};
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return log_err(errno, "KVM_SET_REGS");

	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return log_err(errno, "KVM_SET_FPU");
	return 0;
}

// Port I/O: the guest-ABI ports and the serial port are on vm->pio; nothing there reads as a
// floating bus.
static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		if (!bus_dispatch(&vcpu->vm->pio, run->io.port, data, run->io.size, write) && !write)
			memset(data, 0xff, run->io.size);
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;
	if (len > sizeof(run->mmio.data))
		return;
	if (!bus_dispatch(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len,
			  run->mmio.is_write) && !run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
}

void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char why[128];
	if (seccomp_enter(SECCOMP_VCPU, vm->cfg->seccomp) < 0) {
		vm_finish(vm, EXIT_CLEARVM_FAILED, "vCPU thread: seccomp filter");
		return NULL;
	}
	if (vcpu->index == 0) {
		trace_mark(vm->trace, TRACE_FIRST_RUN);
		log_debug("first KVM_RUN at %.1f ms", trace_elapsed_ms(vm->trace));
	}
	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (__atomic_load_n(&vcpu->run->immediate_exit, __ATOMIC_ACQUIRE))
					return NULL;
				continue;
			}
			snprintf(why, sizeof(why), "KVM_RUN on vCPU %u: %s", vcpu->index, strerror(errno));
			vm_finish(vm, EXIT_CLEARVM_FAILED, why);
			return NULL;
		}
		uint32_t reason = vcpu->run->exit_reason;
		enum trace_exit kind = reason == KVM_EXIT_IO ? TRACE_EXIT_PIO
				       : reason == KVM_EXIT_MMIO ? TRACE_EXIT_MMIO : TRACE_EXIT_OTHER;
		__atomic_add_fetch(&vm->trace->exits[kind], 1, __ATOMIC_RELAXED);
		switch (reason) {
		case KVM_EXIT_IO:
			handle_io(vcpu);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(vcpu);
			break;
		case KVM_EXIT_SHUTDOWN:
		case KVM_EXIT_SYSTEM_EVENT:
			vm_finish(vm, EXIT_CLEARVM_FAILED,
				  "guest: the kernel stopped (panic or reset) before the command's status was reported");
			return NULL;
		case KVM_EXIT_HLT:
			vm_finish(vm, EXIT_CLEARVM_FAILED, "guest: halted with interrupts off");
			return NULL;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(why, sizeof(why), "guest: vCPU %u failed to enter (reason %#llx)", vcpu->index,
				 (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
			vm_finish(vm, EXIT_CLEARVM_FAILED, why);
			return NULL;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(why, sizeof(why), "guest: KVM internal error %u on vCPU %u",
				 vcpu->run->internal.suberror, vcpu->index);
			vm_finish(vm, EXIT_CLEARVM_FAILED, why);
			return NULL;
		default:
			snprintf(why, sizeof(why), "guest: unexpected exit %u on vCPU %u",
				 vcpu->run->exit_reason, vcpu->index);
			vm_finish(vm, EXIT_CLEARVM_FAILED, why);
			return NULL;
		}
		// Stopping (immediate_exit): the next KVM_RUN completes this exit without running
		// the guest further and returns EINTR, so the vCPU's state is whole (a template).
	}
}
