// SPDX-License-Identifier: Apache-2.0
// Parses an uncompressed vmlinux (ELF64, x86-64) and places its PT_LOAD segments in guest RAM.
#pragma once

#include <stddef.h>
#include <stdint.h>

struct loaded_kernel {
	uint64_t entry; // guest-physical 64-bit entry point
	uint64_t end;   // first byte above the highest loaded segment
};

// Puts len bytes at dst: src, which is the contents of file fd from offset off. The whole
// pages in between are mapped copy-on-write from fd (MAP_FIXED over dst) when fd >= 0 and
// dst and off agree modulo the page size: nothing is copied, a page the guest never touches
// is never read, and pages it only reads stay shared with the page cache, and so between VMs
// booting the same files. The partial pages at either end are copied, so a neighbour sharing
// a page is never covered. Otherwise everything is copied. 0 or mmap's -errno.
int loader_place(uint8_t *dst, const uint8_t *src, uint64_t len, int fd, uint64_t off);

// Reads `image` (size bytes, the contents of file `fd`), writes into mem[0, mem_size), which
// must be zero-filled (a fresh memfd): the bss is left as it is. With fd >= 0 and mem
// page-aligned, whole pages are mapped copy-on-write from fd over mem (MAP_FIXED) instead of
// copied; with fd < 0 everything is copied (see loader_place). All headers are checked before anything is placed.
// 0 or -errno: -ENOEXEC not an x86-64 ELF executable, -EINVAL malformed, -ENOSPC does not fit
// in RAM, or mmap's error.
int loader_load_elf(const uint8_t *image, size_t size, int fd, uint8_t *mem, uint64_t mem_size,
		    struct loaded_kernel *out);
