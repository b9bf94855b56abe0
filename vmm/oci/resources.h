// SPDX-License-Identifier: Apache-2.0
// `update`'s resources (the runtime spec's linux.resources object, as runc update -r takes it)
// read into what can change for a running VM. Its vCPUs and RAM are fixed at create; what the
// host grants its VMM can change: CPU time and CPUs, through the cgroup clearvm made for it.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define RESOURCES_CPUSET_MAX 256

struct resources_update {
	int64_t cpu_quota;   // µs a period; -1: no limit; 0: unchanged
	uint64_t cpu_period; // µs; 0: unchanged
	uint64_t cpu_weight; // cgroup v2's 1..10000, from the spec's shares; 0: unchanged
	char cpus[RESOURCES_CPUSET_MAX], mems[RESOURCES_CPUSET_MAX]; // "": unchanged
};

// The JSON text of a linux.resources object, for a container created with memory limit
// `created_limit` (bytes; 0: none). What a VM cannot take is refused with one line logged and
// -EINVAL: another memory limit, block I/O, huge page, network, RDMA, real-time and unified
// settings. Devices (the guest has none of the host's), a pids limit (the container's
// processes are the guest's, as at create), memory reservation and swap (its RAM is its
// limit) change nothing.
int resources_parse_update(const char *json, int64_t created_limit, struct resources_update *u);
// The spec's cpu.shares (2..262144) as cgroup v2's cpu.weight (1..10000), as runc and crun
// convert it.
uint64_t resources_shares_to_weight(uint64_t shares);
// Whether u changes anything at all.
bool resources_update_empty(const struct resources_update *u);
