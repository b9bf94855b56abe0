// SPDX-License-Identifier: Apache-2.0
// The boot trace: a phase keeps its first time, and --stats-json holds every figure.
#define _GNU_SOURCE
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/trace.h"

int main(void)
{
	struct trace t;
	trace_start(&t);
	ok(t.at_ns[TRACE_PARSED] == 0, "a phase not reached reads 0");
	trace_mark(&t, TRACE_PARSED);
	int64_t first = t.at_ns[TRACE_PARSED];
	ok(first > 0, "a reached phase has a time after the start");
	usleep(2000);
	trace_mark(&t, TRACE_PARSED);
	is(t.at_ns[TRACE_PARSED], first, "marking it again keeps the first time");
	trace_mark(&t, TRACE_FIRST_RUN);
	ok(t.at_ns[TRACE_FIRST_RUN] >= first + 2000000, "a later phase is later, on the same clock");

	// 1024 pages (4 MiB) of "guest RAM" as clearvm maps it (a shared memfd mapping, which
	// never merges with the anonymous memory around it), 10 of them touched.
	size_t page = (size_t)sysconf(_SC_PAGESIZE), npages = 1024;
	int memfd = memfd_create("test-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)(npages * page)) < 0)
		return 1;
	uint8_t *ram = mmap(NULL, npages * page, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	for (int i = 0; i < 10; i++)
		ram[(size_t)i * 3 * page] = 1;
	t.exits[TRACE_EXIT_MMIO] = 7;
	t.status = 3;
	trace_measure(&t, ram, npages * page);
	is(t.guest_touched, 10, "guest pages touched: the 10 written");
	ok(t.vmm_rss_kib > 0 && t.peak_rss_kib > 0, "RSS without guest RAM, and the peak, are measured");
	struct trace t2 = t;
	t2.guest_touched = 0;
	memset(ram, 1, npages * page); // 4 MiB more of guest RAM: the guest's, not the VMM's
	trace_measure(&t2, ram, npages * page);
	is(t2.guest_touched, npages, "all 1024 pages touched now");
	// Allocations (and sanitizers' own memory) may grow a little; 4 MiB would show.
	ok(t2.vmm_rss_kib < t.vmm_rss_kib + 1024, "and the VMM's RSS did not grow with them (%llu -> %llu KiB)",
	   (unsigned long long)t.vmm_rss_kib, (unsigned long long)t2.vmm_rss_kib);

	char path[] = "/tmp/clearvm-trace-XXXXXX";
	close(mkstemp(path));
	is(trace_report(&t, false, path), 0, "the JSON is written");
	json_object *o = json_object_from_file(path), *ph, *v, *ex;
	ok(o && json_object_object_get_ex(o, "phases_ms", &ph), "it parses, with phases_ms");
	int phases = 0, reached = 0;
	json_object_object_foreach(ph, name, val) {
		(void)name;
		phases++;
		reached += !json_object_is_type(val, json_type_null);
	}
	is(phases, TRACE_NR, "every phase is named");
	is(reached, 3, "start, options_parsed and first_kvm_run have times; the others are null");
	ok(json_object_object_get_ex(ph, "first_kvm_run", &v) &&
	   json_object_get_double(v) == (double)t.at_ns[TRACE_FIRST_RUN] / 1e6, "times are in ms");
	ok(json_object_object_get_ex(o, "exits", &ex) && json_object_object_get_ex(ex, "mmio", &v) &&
	   json_object_get_int(v) == 7, "exits by kind");
	ok(json_object_object_get_ex(o, "guest_pages_touched", &v) && json_object_get_int(v) == 10,
	   "guest pages touched");
	ok(json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 3, "the status");
	json_object_put(o);
	unlink(path);
	ok(trace_report(&t, false, "/nonexistent/dir/x.json") < 0, "an unwritable path is an error");
	munmap(ram, npages * page);
	return tap_done();
}
