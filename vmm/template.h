// SPDX-License-Identifier: Apache-2.0
// Templates: a VM booted once to where guest-init waits for its launch spec, saved, and set
// back for every later run with the same inputs (template.c).
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct snapshot;
struct vm;

struct template {
	uint64_t key;          // of the inputs: kernel, initramfs, memory, vCPUs, clearvm itself
	int mem_fd;            // the saved guest RAM
	struct snapshot *snap; // the saved state
	bool built;            // this run built it
	double build_ms;
	char path[PATH_MAX];     // the state file
	char mem_path[PATH_MAX]; // the memory file
	uint64_t mem_size;
	unsigned cpus;
	int lock_fd; // held from template_open to template_unlock
};

// Whether cfg can start from a template (not a pod, not --no-template).
bool template_wanted(const struct vm_config *cfg);
// Finds the template for cfg's inputs in its directory and takes its lock (so that concurrent
// first runs build one): 0 when it is there and loaded; 1 when it must be built first (a VM
// booted to its template point, then template_save() and template_load()); -errno (a debug
// message said why) when there can be none: the caller boots cold.
int template_open(const struct vm_config *cfg, struct template *t);
// Saves vm, stopped at its template point, as t's files (under temporary names, renamed into
// place). 0 or -errno.
int template_save(struct template *t, struct vm *vm);
// Loads t's files. 0 or -errno.
int template_load(struct template *t);
// Lets the lock go (template_release does too).
void template_unlock(struct template *t);
void template_release(struct template *t);
