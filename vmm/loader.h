// SPDX-License-Identifier: Apache-2.0
// Parses an uncompressed vmlinux (ELF64, x86-64) and copies its PT_LOAD segments into guest RAM.
#pragma once

#include <stddef.h>
#include <stdint.h>

struct loaded_kernel {
	uint64_t entry; // guest-physical 64-bit entry point
	uint64_t end;   // first byte above the highest loaded segment
};

// Pure: reads `image` (size bytes), writes into mem[0, mem_size). 0 or -errno:
// -ENOEXEC not an x86-64 ELF executable, -EINVAL malformed, -ENOSPC does not fit in RAM.
int loader_load_elf(const uint8_t *image, size_t size, uint8_t *mem, uint64_t mem_size,
		    struct loaded_kernel *out);
