// SPDX-License-Identifier: Apache-2.0
// /dev/kvm: open, API version and the capabilities clearvm relies on.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vm.h"

#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)

// A software KVM that cannot deliver a guest's SYSCALL from CPL3 to CPL0 (kvm_pvm) would boot
// a kernel whose init dies at its first system call; say so at once instead.
int kvm_host_runs_user_space(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0 ? -ENOTSUP : 0;
}

// KVM_GET_SUPPORTED_CPUID never lists the TSC-deadline timer (api.rst, "CPUID bits"): it is
// there when KVM emulates the local APIC, as it does here (KVM_CREATE_IRQCHIP). Without it the
// guest calibrates its APIC timer against the tick, which waits 10 ticks (100 ms at HZ=100).
static void offer_tsc_deadline(struct vm *vm)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
		return;
	for (uint32_t i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == 1)
			vm->cpuid->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}

int kvm_open_checked(struct vm *vm)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
		{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
		{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
		{KVM_CAP_PIT2, "KVM_CAP_PIT2"},
		{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	};
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return log_err(errno, "/dev/kvm");
	if (kvm_host_runs_user_space() < 0)
		return log_err(0, "/dev/kvm: this host's KVM (kvm_pvm, a software KVM) cannot run a "
				  "guest's user space; use a hardware KVM host or tests/testbed/run");
	int v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return log_err(ENOTSUP, "/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
			return log_err(ENOTSUP, "/dev/kvm: missing %s", caps[i].name);
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return log_err(errno, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)size;

	int n = 64;
	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = (uint32_t)n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			offer_tsc_deadline(vm);
			return 0;
		}
		free(c);
		if (errno != E2BIG || n >= 4096)
			return log_err(errno, "KVM_GET_SUPPORTED_CPUID");
		n *= 2;
	}
}
