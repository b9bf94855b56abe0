// SPDX-License-Identifier: Apache-2.0
// One run of a VM from a checked config to the workload's status (vmm.c): what the clearvm
// command and the rkt stage1 both call.
#pragma once

#include "config.h"
#include "evloop.h"
#include "vm.h"

struct vmm_launch {
	const struct vm_config *cfg;
	struct vm_hooks hooks; // the caller's, called on the I/O thread (NULL members: none)
	// Once the VM is built and privileges are dropped, before it runs (NULL: nothing). A
	// non-zero return ends the run with 125 (the hook logged why).
	int (*built)(void *ctx);
	const int *inherited; // the fds the process inherited: closed once the VM is built
	int ninherited;
	struct trace trace; // the run's, kept here; started when the process did (trace_start), phases marked so far
};

// Builds the VM (from its template when one applies, else cold), drops privileges, runs it,
// reports the trace when asked and tears it down. Returns the workload's status or 125.
int vmm_main(struct vmm_launch *l);
