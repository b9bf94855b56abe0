// SPDX-License-Identifier: Apache-2.0
// What this host's /dev/kvm is: missing, the software kvm_pvm, or a hardware KVM. clearvm
// refuses the first two with a line saying what to do; tests/with-kvm asks `clearvm
// --check-kvm` to choose the test bed, so both decide the same way.
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm_host.h"
#include "util.h"

// Only one vendor module can back kvm.ko at a time, so a loaded kvm_pvm means /dev/kvm, when
// there is one, is the software KVM. A loaded kvm_pvm with no /dev/kvm is a host with no KVM.
enum kvm_host kvm_host_kind(void)
{
	struct stat st;
	if (stat("/dev/kvm", &st) < 0 || !S_ISCHR(st.st_mode))
		return KVM_HOST_MISSING;
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return KVM_HOST_SOFTWARE;
	return KVM_HOST_HARDWARE;
}

int kvm_host_refuse(enum kvm_host kind)
{
	switch (kind) {
	case KVM_HOST_MISSING:
		log_err(0, "/dev/kvm: this host has no KVM (enable virtualization in the firmware and "
			   "load kvm_intel or kvm_amd)");
		return -ENOTSUP;
	case KVM_HOST_SOFTWARE:
		log_err(0, "/dev/kvm: this host's KVM (kvm_pvm, a software KVM) cannot run a guest's "
			   "user space; use a hardware KVM host or tests/testbed/run");
		return -ENOTSUP;
	case KVM_HOST_HARDWARE:
		break;
	}
	return 0;
}

int kvm_host_report(void)
{
	static const char *const lines[] = {
		[KVM_HOST_MISSING] = "missing: no /dev/kvm on this host",
		[KVM_HOST_SOFTWARE] = "software: /dev/kvm is kvm_pvm, which cannot run a guest's user space",
		[KVM_HOST_HARDWARE] = "hardware: /dev/kvm can run guests",
	};
	enum kvm_host kind = kvm_host_kind();
	printf("%s\n", lines[kind]);
	return kind == KVM_HOST_HARDWARE ? 0 : -ENOTSUP;
}
