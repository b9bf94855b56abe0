// SPDX-License-Identifier: Apache-2.0
// The boot trace: phase timestamps on CLOCK_MONOTONIC, exit counts, memory figures, and the
// two ways of reporting them.
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace.h"
#include "util.h"

static const char *const phase_names[TRACE_NR] = {
	"start", "options_parsed", "vm_created", "kernel_loaded", "first_kvm_run",
	"guest_init", "root_mounted", "workload_exec", "workload_exited", "clearvm_exit",
};

const char *trace_phase_name(enum trace_phase p)
{
	return p < TRACE_NR ? phase_names[p] : "?";
}

void trace_start(struct trace *t)
{
	memset(t, 0, sizeof(*t));
	t->t0_ns = monotonic_ns();
}

double trace_elapsed_ms(const struct trace *t)
{
	return (double)(monotonic_ns() - t->t0_ns) / 1e6;
}

void trace_mark(struct trace *t, enum trace_phase p)
{
	int64_t zero = 0, now = monotonic_ns() - t->t0_ns;
	if (now <= 0)
		now = 1; // 0 means "not reached"
	__atomic_compare_exchange_n(&t->at_ns[p], &zero, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

// Sums the Rss in /proc/self/smaps of the mappings inside [lo, hi) (guest RAM, which the kernel
// image's copy-on-write mappings split into several) and of all the others (the VMM's own).
static void rss_split(uintptr_t lo, uintptr_t hi, uint64_t *inside_kib, uint64_t *outside_kib)
{
	*inside_kib = *outside_kib = 0;
	FILE *f = fopen("/proc/self/smaps", "re");
	if (!f)
		return;
	char line[512];
	bool guest = false;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t a, b;
		unsigned long long v;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &a, &b) == 2) // a mapping's first line
			guest = a < hi && b > lo;
		else if (sscanf(line, "Rss: %llu kB", &v) == 1)
			*(guest ? inside_kib : outside_kib) += v;
	}
	fclose(f);
}

static uint64_t status_field(const char *name)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	char line[256];
	unsigned long long v = 0;
	size_t len = strlen(name);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && sscanf(line + len, ": %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

void trace_measure(struct trace *t, const void *ram, uint64_t ram_size)
{
	// Rss, not mincore: pages of the kernel file sitting in the page cache are not touched
	// guest pages until the guest maps them.
	uint64_t guest_kib;
	rss_split((uintptr_t)ram, (uintptr_t)ram + (ram ? ram_size : 0), &guest_kib, &t->vmm_rss_kib);
	t->guest_touched = guest_kib * 1024 / (uint64_t)sysconf(_SC_PAGESIZE);
	t->peak_rss_kib = status_field("VmHWM"); // the kernel's counters lag smaps by a few pages
}

static void print_table(const struct trace *t)
{
	const char *path = t->path ? t->path : "cold";
	bool restored = strcmp(path, "cold") != 0;
	const char *const label[TRACE_NR] = {
		"clearvm started", "options parsed", "VM created",
		restored ? "template restored" : "kernel loaded", "first KVM_RUN",
		restored ? "guest-init has spec" : "guest-init started", "root mounted", "workload exec'd",
		"workload exited", "clearvm exit",
	};
	fprintf(stderr, "clearvm: boot trace, ms since clearvm started (+ms since the previous phase)\n");
	if (!strcmp(path, "template-built"))
		fprintf(stderr, "  path: template, built by this run first (%.1f ms)\n", t->template_build_ms);
	else
		fprintf(stderr, "  path: %s\n", restored ? "template" : "cold boot");
	int64_t prev = 0;
	for (int p = 0; p < TRACE_NR; p++) {
		if (p && !t->at_ns[p]) {
			fprintf(stderr, "  %-20s        -\n", label[p]);
			continue;
		}
		fprintf(stderr, "  %-20s %8.1f  (+%.1f)\n", label[p], (double)t->at_ns[p] / 1e6,
			(double)(t->at_ns[p] - prev) / 1e6);
		prev = t->at_ns[p];
	}
	fprintf(stderr, "  exits to clearvm: %" PRIu64 " PIO, %" PRIu64 " MMIO, %" PRIu64 " other\n",
		t->exits[TRACE_EXIT_PIO], t->exits[TRACE_EXIT_MMIO], t->exits[TRACE_EXIT_OTHER]);
	fprintf(stderr, "  VMM RSS without guest RAM: %" PRIu64 " KiB; process peak (with guest RAM): %" PRIu64
		" KiB\n", t->vmm_rss_kib, t->peak_rss_kib);
	fprintf(stderr, "  guest pages touched: %" PRIu64 " (%.1f MiB); reported free and released: %.1f MiB\n",
		t->guest_touched, (double)t->guest_touched * 4096 / (1 << 20),
		(double)t->reported_bytes / (1 << 20));
	fprintf(stderr, "  file server requests answered: %" PRIu64 "\n", t->fs_requests);
}

static int write_json(const struct trace *t, const char *path)
{
	json_object *o = json_object_new_object(), *ph = json_object_new_object(), *ex = json_object_new_object();
	for (int p = 0; p < TRACE_NR; p++)
		json_object_object_add(ph, phase_names[p],
				       p && !t->at_ns[p] ? json_object_new_null()
							 : json_object_new_double((double)t->at_ns[p] / 1e6));
	json_object_object_add(ex, "pio", json_object_new_uint64(t->exits[TRACE_EXIT_PIO]));
	json_object_object_add(ex, "mmio", json_object_new_uint64(t->exits[TRACE_EXIT_MMIO]));
	json_object_object_add(ex, "other", json_object_new_uint64(t->exits[TRACE_EXIT_OTHER]));
	json_object_object_add(o, "phases_ms", ph);
	json_object_object_add(o, "exits", ex);
	json_object_object_add(o, "vmm_rss_kib", json_object_new_uint64(t->vmm_rss_kib));
	json_object_object_add(o, "peak_rss_kib", json_object_new_uint64(t->peak_rss_kib));
	json_object_object_add(o, "guest_pages_touched", json_object_new_uint64(t->guest_touched));
	json_object_object_add(o, "guest_reported_bytes", json_object_new_uint64(t->reported_bytes));
	json_object_object_add(o, "fs_requests", json_object_new_uint64(t->fs_requests));
	json_object_object_add(o, "status", json_object_new_int(t->status));
	json_object_object_add(o, "path", json_object_new_string(t->path ? t->path : "cold"));
	json_object_object_add(o, "template_build_ms", json_object_new_double(t->template_build_ms));
	int r = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY) < 0 ? -EIO : 0;
	json_object_put(o);
	return r < 0 ? log_err(0, "--stats-json %s: cannot write it", path) : 0;
}

int trace_report(const struct trace *t, bool table, const char *json_path)
{
	if (table)
		print_table(t);
	return json_path ? write_json(t, json_path) : 0;
}
