// SPDX-License-Identifier: Apache-2.0
// What a BIOS would leave in guest memory, built by pure functions over a byte buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

struct fw_config {
	uint64_t ram_size;     // bytes of guest RAM starting at gpa 0
	unsigned ncpus;        // vCPUs, APIC ids 0..ncpus-1
	const char *cmdline;   // kernel command line
	gpa_t initrd_gpa;      // where the initramfs was loaded (0: none)
	uint64_t initrd_size;
};

// GDT selectors of the 64-bit boot protocol.
#define FW_BOOT_CS 0x10
#define FW_BOOT_DS 0x18
#define FW_BOOT_TSS 0x20
#define FW_GDT_ENTRIES 5

// Each returns 0 or -errno (-ENOSPC when guest RAM is too small, -E2BIG for a long cmdline).
int fw_write_boot_params(uint8_t *mem, uint64_t mem_size, const struct fw_config *cfg);
int fw_write_mptable(uint8_t *mem, uint64_t mem_size, unsigned ncpus);
int fw_write_pagetables(uint8_t *mem, uint64_t mem_size);
int fw_write_gdt(uint8_t *mem, uint64_t mem_size);
// The GDT entry for selector `sel` as written by fw_write_gdt (for the vCPU's segment registers).
uint64_t fw_gdt_entry(unsigned index);
// Where to put an initramfs of `size` bytes: as high as the boot protocol allows, 4 KiB aligned.
int fw_initrd_placement(uint64_t ram_size, uint64_t size, uint64_t kernel_end, gpa_t *gpa);
