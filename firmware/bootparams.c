// SPDX-License-Identifier: Apache-2.0
// The x86 boot protocol's zero page: setup header, e820 memory map and command line.
#include <asm/bootparam.h>
#include <asm/e820.h>
#include <errno.h>
#include <string.h>

#include "firmware.h"
#include "../vmm/util.h"

#define BOOT_HDR_MAGIC 0x53726448 // "HdrS"
#define BOOT_FLAG 0xaa55
#define BOOT_PROTOCOL 0x020c
#define LOADER_UNDEFINED 0xff

static void e820_add(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];
	e->addr = addr;
	e->size = size;
	e->type = type;
}

int fw_write_boot_params(uint8_t *mem, uint64_t mem_size, const struct fw_config *cfg)
{
	size_t cmdlen = strlen(cfg->cmdline);
	if (cmdlen + 1 > LAYOUT_CMDLINE_MAX)
		return -E2BIG;
	if (cfg->ram_size > mem_size || cfg->ram_size <= LAYOUT_HIGH_MEM ||
	    !range_ok(LAYOUT_BOOT_PARAMS, sizeof(struct boot_params), mem_size) ||
	    !range_ok(LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX, mem_size))
		return -ENOSPC;
	if (cfg->initrd_size && !range_ok(cfg->initrd_gpa, cfg->initrd_size, cfg->ram_size))
		return -EINVAL;

	memcpy(mem + LAYOUT_CMDLINE, cfg->cmdline, cmdlen + 1);

	struct boot_params bp;
	memset(&bp, 0, sizeof(bp));
	bp.hdr.header = BOOT_HDR_MAGIC;
	bp.hdr.boot_flag = BOOT_FLAG;
	bp.hdr.version = BOOT_PROTOCOL;
	bp.hdr.type_of_loader = LOADER_UNDEFINED;
	bp.hdr.loadflags = LOADED_HIGH | CAN_USE_HEAP;
	bp.hdr.heap_end_ptr = 0xfe00;
	bp.hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE;
	bp.hdr.cmdline_size = LAYOUT_CMDLINE_MAX;
	bp.hdr.kernel_alignment = 0x1000000;
	bp.hdr.ramdisk_image = (uint32_t)cfg->initrd_gpa;
	bp.hdr.ramdisk_size = (uint32_t)cfg->initrd_size;

	// Low RAM up to the EBDA (the MP table), then RAM from 1 MiB to the end.
	e820_add(&bp, 0, LAYOUT_EBDA, E820_RAM);
	e820_add(&bp, LAYOUT_EBDA, LAYOUT_HIGH_MEM - LAYOUT_EBDA, E820_RESERVED);
	e820_add(&bp, LAYOUT_HIGH_MEM, cfg->ram_size - LAYOUT_HIGH_MEM, E820_RAM);

	memcpy(mem + LAYOUT_BOOT_PARAMS, &bp, sizeof(bp));
	return 0;
}

int fw_initrd_placement(uint64_t ram_size, uint64_t size, uint64_t kernel_end, gpa_t *gpa)
{
	uint64_t top = MIN(ram_size, LAYOUT_INITRD_MAX + 1);
	if (size > top)
		return -ENOSPC;
	uint64_t at = ALIGN_DOWN(top - size, 0x1000);
	if (at < kernel_end)
		return -ENOSPC;
	*gpa = at;
	return 0;
}
