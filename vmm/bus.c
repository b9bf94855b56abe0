// SPDX-License-Identifier: Apache-2.0
// PIO/MMIO range table: a handful of ranges, searched linearly.
#include <errno.h>

#include "bus.h"

int bus_add(struct bus *bus, uint64_t base, uint64_t len, bus_handler fn, void *opaque)
{
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->n; i++)
		if (base < bus->r[i].base + bus->r[i].len && bus->r[i].base < base + len)
			return -EBUSY;
	bus->r[bus->n++] = (struct bus_range){base, len, fn, opaque};
	return 0;
}

bool bus_dispatch(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len, bool write)
{
	for (unsigned i = 0; i < bus->n; i++) {
		struct bus_range *r = &bus->r[i];
		if (addr >= r->base && addr - r->base < r->len && len <= r->len - (addr - r->base)) {
			r->fn(r->opaque, addr - r->base, data, len, write);
			return true;
		}
	}
	return false;
}
