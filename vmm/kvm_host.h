// SPDX-License-Identifier: Apache-2.0
// What this host's /dev/kvm is, decided in one place for clearvm and its tests.
#pragma once

enum kvm_host {
	KVM_HOST_MISSING,  // no /dev/kvm at all (kvm_pvm may still be loaded)
	KVM_HOST_SOFTWARE, // /dev/kvm is kvm_pvm: it cannot run a guest's user space
	KVM_HOST_HARDWARE, // /dev/kvm from kvm_intel or kvm_amd
};

enum kvm_host kvm_host_kind(void);
// One line on stderr for a host that cannot run guests and -ENOTSUP, or 0 for hardware.
int kvm_host_refuse(enum kvm_host kind);
// clearvm --check-kvm: one line on stdout naming the kind; 0 for hardware, else -ENOTSUP.
int kvm_host_report(void);
