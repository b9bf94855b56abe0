// SPDX-License-Identifier: Apache-2.0
// Templates: a VM booted once to where guest-init waits for its launch spec, saved, and set
// back for every later run with the same inputs (template.c).
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct snapshot;

struct template {
	uint64_t key;          // of the inputs: kernel, initramfs, memory, vCPUs, clearvm itself
	int mem_fd;            // the saved guest RAM
	struct snapshot *snap; // the saved state
	bool built;            // this run built it
	double build_ms;
	char path[PATH_MAX]; // the state file, for messages
};

// Whether cfg can start from a template (not a pod, not --no-template).
bool template_wanted(const struct vm_config *cfg);
// Finds the template for cfg's inputs in its directory, or builds it there (under a lock, so
// concurrent first runs build one). 0 with t filled; or -errno, logged as a debug message:
// the caller boots cold.
int template_get(const struct vm_config *cfg, struct template *t);
void template_release(struct template *t);
