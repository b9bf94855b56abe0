// SPDX-License-Identifier: Apache-2.0
// /dev/kvm: open, API version and the capabilities clearvm relies on.
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devnodes.h"
#include "kvm_host.h"
#include "vm.h"

#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)

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
	// A software KVM that cannot deliver a guest's SYSCALL from CPL3 to CPL0 (kvm_pvm) would
	// boot a kernel whose init dies at its first system call: say so at once instead.
	int r = kvm_host_refuse(kvm_host_kind());
	if (r < 0)
		return r;
	vm->kvm_fd = devnode_open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0 && errno == EACCES)
		return log_err(errno, "/dev/kvm (ask for access to it, e.g. the kvm group)");
	if (vm->kvm_fd < 0)
		return log_err(errno, "/dev/kvm");
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

	if ((r = kvm_supported_cpuid(vm->kvm_fd, &vm->cpuid)) < 0)
		return log_err(r, "KVM_GET_SUPPORTED_CPUID");
	offer_tsc_deadline(vm);
	return 0;
}

int kvm_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	for (int n = 64;; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = (uint32_t)n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG || n >= 4096)
			return -err;
	}
}
