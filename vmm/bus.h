// SPDX-License-Identifier: Apache-2.0
// A table of PIO or MMIO ranges and the handler each one goes to.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BUS_MAX_RANGES 16

typedef void (*bus_handler)(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool write);

struct bus_range {
	uint64_t base, len;
	bus_handler fn;
	void *opaque;
};

struct bus {
	struct bus_range r[BUS_MAX_RANGES];
	unsigned n;
};

// 0, -EBUSY if it overlaps a range already there, -ENOSPC when the table is full.
int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_handler fn, void *opaque);
// Calls the handler of the range holding [addr, addr+len); false when none does.
bool bus_dispatch(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool write);
