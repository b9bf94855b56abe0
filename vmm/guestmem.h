// SPDX-License-Identifier: Apache-2.0
// Guest RAM as the VMM sees it, and the one checked way to turn a guest address into a pointer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "../firmware/layout.h"
#include "util.h"

struct guest_mem {
	uint8_t *base;
	uint64_t size;
};

// A host pointer to guest bytes [gpa, gpa+len), or NULL when any of it is outside RAM.
static inline void *gpa_ptr(const struct guest_mem *mem, gpa_t gpa, uint64_t len)
{
	if (!range_ok(gpa, len, mem->size))
		return NULL;
	return mem->base + gpa;
}
