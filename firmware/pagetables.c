// SPDX-License-Identifier: Apache-2.0
// Identity page tables for the first 1 GiB and the boot GDT, as the 64-bit entry expects.
#include <errno.h>
#include <string.h>

#include "firmware.h"
#include "../vmm/util.h"

#define PTE_PRESENT 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL // 2 MiB page in a PD entry

int fw_write_pagetables(uint8_t *mem, uint64_t mem_size)
{
	if (!range_ok(LAYOUT_PML4, 0x3000, mem_size))
		return -ENOSPC;
	uint64_t pml4 = LAYOUT_PDPT | PTE_PRESENT | PTE_RW;
	uint64_t pdpt = LAYOUT_PD | PTE_PRESENT | PTE_RW;
	memset(mem + LAYOUT_PML4, 0, 0x3000);
	memcpy(mem + LAYOUT_PML4, &pml4, 8);
	memcpy(mem + LAYOUT_PDPT, &pdpt, 8);
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t pde = (i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
		memcpy(mem + LAYOUT_PD + i * 8, &pde, 8);
	}
	return 0;
}

// Flat segments: 64-bit code, data, and a TSS that KVM's entry checks want to be present.
static const uint64_t gdt[FW_GDT_ENTRIES] = {
	0,                     // null
	0,                     // unused, so the selectors match the boot protocol's 0x10/0x18
	0x00af9b000000ffffULL, // 0x10 code: L=1, P=1, DPL0, execute/read, accessed
	0x00cf93000000ffffULL, // 0x18 data: P=1, DPL0, read/write, accessed, 4 GiB
	0x00008b0000000067ULL, // 0x20 TSS: busy 64-bit TSS at 0, limit 0x67
};

uint64_t fw_gdt_entry(unsigned index)
{
	return index < FW_GDT_ENTRIES ? gdt[index] : 0;
}

int fw_write_gdt(uint8_t *mem, uint64_t mem_size)
{
	if (!range_ok(LAYOUT_GDT, sizeof(gdt), mem_size))
		return -ENOSPC;
	memcpy(mem + LAYOUT_GDT, gdt, sizeof(gdt));
	return 0;
}
