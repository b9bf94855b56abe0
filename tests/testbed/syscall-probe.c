// SPDX-License-Identifier: Apache-2.0
// Proves whether a KVM can run guest user space: a 64-bit guest at CPL3 executes SYSCALL and
// the handler reports its own CS; the KVM is honest when the handler runs at CPL0.
// Exit 0: honest; 1: SYSCALL stayed at CPL3 (or the guest died); 2: no usable /dev/kvm.

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE 0x200000
#define GDT 0x500
#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define USER_CODE 0x4000
#define HANDLER 0x5000
#define TSS 0x6000
#define REPORT_PORT 0xf4

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084

static int fail(const char *what, int status)
{
	fprintf(stderr, "syscall-probe: %s: %s\n", what, strerror(errno));
	return status;
}

static struct kvm_segment segment(uint16_t sel, uint8_t type, uint8_t dpl, uint8_t code64)
{
	struct kvm_segment s = {
		.base = 0, .limit = 0xfffff, .selector = sel, .type = type, .present = 1,
		.dpl = dpl, .db = code64 ? 0 : 1, .s = 1, .l = code64, .g = 1,
	};
	return s;
}

static void build_guest(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT);
	gdt[1] = 0x00af9b000000ffffULL; // 0x08 kernel code, 64-bit, DPL0
	gdt[2] = 0x00cf93000000ffffULL; // 0x10 kernel data
	gdt[3] = 0x00cff3000000ffffULL; // 0x18 user data, DPL3
	gdt[4] = 0x00affb000000ffffULL; // 0x20 user code, 64-bit, DPL3

	// Identity map of the first 2 MiB, user-accessible, one large page.
	*(uint64_t *)(mem + PML4) = PDPT | 0x7;
	*(uint64_t *)(mem + PDPT) = PD | 0x7;
	*(uint64_t *)(mem + PD) = 0x87;

	static const uint8_t user[] = {0x0f, 0x05, 0xf4};                 // syscall; hlt
	static const uint8_t handler[] = {0x8c, 0xc8, 0xe6, REPORT_PORT, 0xf4}; // mov %cs,%eax; out %al; hlt
	memcpy(mem + USER_CODE, user, sizeof(user));
	memcpy(mem + HANDLER, handler, sizeof(handler));
}

static int set_cpu(int vcpu)
{
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cr0 = 0x80000011; // PG | ET | PE
	sregs.cr3 = PML4;
	sregs.cr4 = 0x20;       // PAE
	sregs.efer = 0xd01;     // LMA | LME | SCE
	sregs.gdt.base = GDT;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.cs = segment(0x23, 0xb, 3, 1);
	sregs.ss = segment(0x1b, 0x3, 3, 0);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss;
	sregs.tr = (struct kvm_segment){.base = TSS, .limit = 0x67, .type = 0xb, .present = 1};
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return -1;

	struct kvm_regs regs = {.rip = USER_CODE, .rsp = 0x8000, .rflags = 0x2};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return -1;

	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[3];
	} msrs = {.hdr.nmsrs = 3,
		  .e = {{.index = MSR_STAR, .data = (0x10ULL << 48) | (0x08ULL << 32)},
			{.index = MSR_LSTAR, .data = HANDLER},
			{.index = MSR_SFMASK, .data = 0}}};
	return ioctl(vcpu, KVM_SET_MSRS, &msrs) == 3 ? 0 : -1;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm", 2);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM", 2);
	uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap", 2);
	build_guest(mem);
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION", 2);
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU", 2);
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run", 2);
	if (set_cpu(vcpu) < 0)
		return fail("setting up the vCPU", 2);
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN", 1);

	if (run->exit_reason == KVM_EXIT_IO && run->io.port == REPORT_PORT &&
	    run->io.direction == KVM_EXIT_IO_OUT) {
		unsigned cs = *((uint8_t *)run + run->io.data_offset);
		unsigned cpl = cs & 3;
		printf("syscall-probe: SYSCALL handler ran with CS=%#x (CPL%u): %s\n", cs, cpl,
		       cpl == 0 ? "this KVM runs guest user space correctly"
				: "this KVM cannot run guest user space");
		return cpl == 0 ? 0 : 1;
	}
	printf("syscall-probe: guest stopped with exit reason %u before reporting: this KVM cannot "
	       "run guest user space\n", run->exit_reason);
	return 1;
}
