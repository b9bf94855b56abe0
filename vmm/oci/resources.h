// SPDX-License-Identifier: Apache-2.0
// `update`'s resources (the runtime spec's linux.resources object, as runc update -r takes it)
// read into what can change for a running VM. Its vCPUs are fixed at create, and its RAM: the
// memory limit sets how much of that RAM the guest may use (the balloon holds the rest), up to
// all of it. What the host grants its VMM can change too: CPU time and CPUs, through the cgroup
// clearvm made for it.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define RESOURCES_CPUSET_MAX 256

struct resources_update {
	bool memory;	     // memory_mib is to be set
	uint32_t memory_mib; // the guest's share of the VM's RAM: the limit plus the guest kernel's
			     // share, as at create (BUNDLE_MEMORY_OVERHEAD_MIB); 0: all of it
	int64_t cpu_quota;   // µs a period; -1: no limit; 0: unchanged
	uint64_t cpu_period; // µs; 0: unchanged
	uint64_t cpu_weight; // cgroup v2's 1..10000, from the spec's shares; 0: unchanged
	char cpus[RESOURCES_CPUSET_MAX], mems[RESOURCES_CPUSET_MAX]; // "": unchanged
};

// The JSON text of a linux.resources object. What a VM cannot take is refused with one line
// logged and -EINVAL: block I/O, huge page, network, RDMA, real-time and unified settings.
// Devices (the guest has none of the host's), a pids limit (the container's processes are the
// guest's, as at create), memory reservation and swap (its RAM is its limit) change nothing.
// Whether the VM has the RAM for a memory limit, its VMM says.
int resources_parse_update(const char *json, struct resources_update *u);
// The spec's cpu.shares (2..262144) as cgroup v2's cpu.weight (1..10000), as runc and crun
// convert it.
uint64_t resources_shares_to_weight(uint64_t shares);
// Whether u changes anything at all; whether it changes the CPUs' settings.
bool resources_update_empty(const struct resources_update *u);
bool resources_update_cpu(const struct resources_update *u);
