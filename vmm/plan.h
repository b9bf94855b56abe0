// SPDX-License-Identifier: Apache-2.0
// A VM's device plan (plan.c): which virtio-mmio slot holds what, from the config and how the VM
// starts. Pure: the same answer for the same input, no KVM, no file touched.
#pragma once

#include "../firmware/layout.h"
#include "../guest-init/abi.h"
#include "config.h"
#include "sandbox/jail.h"

// How a VM starts: a cold boot of the kernel with the launch spec in the initramfs; a boot
// that only goes as far as guest-init waiting for a spec, to be saved as a template; or a VM
// set back from a template, its spec sent on the "spec" port.
enum vm_mode { VM_COLD, VM_TEMPLATE_BUILD, VM_RESTORE };

#define PLAN_MAX_PORTS ABI_NR_ENTER_PORTS
#define PLAN_MAX_SHARES (LAYOUT_VIRTIO_SLOTS - 3) // the console, balloon and network card too

struct plan_share {
	char tag[32];
	bool spare; // a template's slot with the tag but no share (a template boot has none)
	bool root;  // a root (the guest's own), not a volume
	struct jail_share share;
};

struct vm_plan {
	// The shares first (slots 0..nshares-1), then the console, the balloon, and the network
	// card when there is one.
	struct plan_share shares[PLAN_MAX_SHARES];
	unsigned nshares;
	const char *port_names[PLAN_MAX_PORTS];
	int port_fds[PLAN_MAX_PORTS]; // the host end of each console port (-1: none at start)
	unsigned nports;
	bool nic; // a network card (cfg->network is not none)
};

// The slots of a VM of cfg started as mode: a command's root and volumes, each pod app's root
// and volumes, or a template's root and CONFIG_MAX_VOLUMES volume slots (shares only when
// restoring; the spares have none), and a network card unless the network is none. 0, or
// -ENOSPC when they do not fit the slots.
int vm_plan(const struct vm_config *cfg, enum vm_mode mode, struct vm_plan *plan);
