// SPDX-License-Identifier: Apache-2.0
// The boot trace: when each phase of a run was reached on one host clock, how often the
// guest exited to clearvm, and what the run cost in memory (--boot-trace, --stats-json).
#pragma once

#include <stdint.h>
#include <time.h>

enum trace_phase {
	TRACE_START,         // main() entered: the origin of every figure
	TRACE_PARSED,        // options parsed and checked
	TRACE_VM_CREATED,    // KVM VM, guest RAM, irqchip and vCPUs exist
	TRACE_KERNEL_LOADED, // devices, kernel, initramfs, launch spec and boot tables in place
	TRACE_FIRST_RUN,     // the first KVM_RUN is entered
	TRACE_INIT,          // guest-init runs (its first milestone)
	TRACE_ROOT,          // the container's root is mounted
	TRACE_EXEC,          // the workload is about to be exec'd
	TRACE_EXITED,        // the workload's status arrived
	TRACE_END,           // clearvm is about to exit
	TRACE_NR
};

enum trace_exit { TRACE_EXIT_PIO, TRACE_EXIT_MMIO, TRACE_EXIT_OTHER, TRACE_EXIT_NR };

struct trace {
	int64_t t0_ns; // monotonic_ns() at TRACE_START
	int64_t at_ns[TRACE_NR]; // 0: not reached (TRACE_START is 0 by definition)
	uint64_t exits[TRACE_EXIT_NR];
	uint64_t vmm_rss_kib;    // resident memory that is not guest RAM, at the end
	uint64_t peak_rss_kib;   // VmHWM: the whole process's peak, guest RAM included
	uint64_t guest_touched;  // guest RAM pages resident at the end: what the guest touched
	uint64_t reported_bytes; // free guest memory the guest reported and clearvm gave back
	uint64_t fs_requests;    // requests the file servers answered (9p and virtio-fs), every share
	int status;
	// How the VM started: "cold", "template" (restored from one: TRACE_KERNEL_LOADED is then
	// the template's memory and state set back) or "template-built" (this run built it first,
	// in template_build_ms, between TRACE_PARSED and TRACE_VM_CREATED).
	const char *path;
	double template_build_ms;
};

// A phase's name in the JSON report ("options_parsed"...).
const char *trace_phase_name(enum trace_phase p);
void trace_start(struct trace *t);
// Milliseconds since TRACE_START (for debug messages).
double trace_elapsed_ms(const struct trace *t);
// Records the first time phase p is reached (later calls keep the first; any thread).
void trace_mark(struct trace *t, enum trace_phase p);
// Fills the memory figures; guest RAM is [ram, ram + ram_size) in this process.
void trace_measure(struct trace *t, const void *ram, uint64_t ram_size);
// The trace as a table on stderr, and/or as JSON into json_path. 0 or -errno (logged).
int trace_report(const struct trace *t, bool table, const char *json_path);
