// SPDX-License-Identifier: Apache-2.0
// Firmware tables: the zero page, e820, MP table and page tables a kernel reads at boot.
#include <asm/bootparam.h>
#include <asm/e820.h>
#include <errno.h>
#include <stdbool.h>

#include "../harness/tap.h"
#include "../../firmware/firmware.h"

#define RAM (64u << 20)
static uint8_t ram[RAM];

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_boot_params(void)
{
	struct fw_config cfg = {.ram_size = RAM, .ncpus = 1, .cmdline = "console=ttyS0 quiet",
				.initrd_gpa = RAM - 0x10000, .initrd_size = 0x8000};
	is(fw_write_boot_params(ram, RAM, &cfg), 0, "boot params written");
	struct boot_params *bp = (struct boot_params *)(ram + LAYOUT_BOOT_PARAMS);
	is(bp->hdr.header, 0x53726448, "setup header magic HdrS");
	is(bp->hdr.boot_flag, 0xaa55, "boot flag");
	is(bp->hdr.cmd_line_ptr, LAYOUT_CMDLINE, "command line pointer");
	ok(!strcmp((char *)ram + LAYOUT_CMDLINE, "console=ttyS0 quiet"), "command line copied with its NUL");
	is(bp->hdr.ramdisk_image, RAM - 0x10000, "initramfs address");
	is(bp->hdr.ramdisk_size, 0x8000, "initramfs size");
	is(bp->e820_entries, 3, "three e820 entries");
	uint64_t usable = 0;
	bool overlaps_mptable = false;
	for (unsigned i = 0; i < bp->e820_entries; i++) {
		struct boot_e820_entry *e = &bp->e820_table[i];
		if (e->type == E820_RAM) {
			usable += e->size;
			if (e->addr <= LAYOUT_EBDA && LAYOUT_EBDA < e->addr + e->size)
				overlaps_mptable = true;
		}
	}
	is(usable, RAM - (LAYOUT_HIGH_MEM - LAYOUT_EBDA), "e820 RAM is all RAM but the EBDA-to-1MiB hole");
	ok(!overlaps_mptable, "the MP table is not in e820 RAM");

	char big[LAYOUT_CMDLINE_MAX + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	cfg.cmdline = big;
	is(fw_write_boot_params(ram, RAM, &cfg), -E2BIG, "an over-long command line is refused");
	cfg.cmdline = "";
	cfg.initrd_gpa = RAM - 0x100;
	is(fw_write_boot_params(ram, RAM, &cfg), -EINVAL, "an initramfs past the end of RAM is refused");
}

static void test_mptable(void)
{
	is(fw_write_mptable(ram, RAM, 4), 0, "MP table for 4 CPUs");
	uint8_t *mpf = ram + LAYOUT_EBDA;
	ok(!memcmp(mpf, "_MP_", 4), "floating pointer signature in the last KiB of base memory");
	is(sum(mpf, 16), 0, "floating pointer checksum");
	uint32_t table;
	memcpy(&table, mpf + 4, 4);
	ok(table > LAYOUT_EBDA && table < LAYOUT_HIGH_MEM, "config table inside the reserved area");
	uint8_t *t = ram + table;
	uint16_t len, count;
	memcpy(&len, t + 4, 2);
	memcpy(&count, t + 34, 2);
	ok(!memcmp(t, "PCMP", 4), "config table signature");
	is(sum(t, len), 0, "config table checksum");
	unsigned cpus = 0, bsp = 0, ioapics = 0, ints = 0;
	uint8_t *e = t + 44;
	for (unsigned i = 0; i < count; i++) {
		switch (e[0]) {
		case 0: cpus++; bsp += (e[3] & 2) != 0; e += 20; break;
		case 2: ioapics++; e += 8; break;
		case 3: ints++; e += 8; break;
		default: e += 8; break;
		}
	}
	is(cpus, 4, "one processor entry per vCPU");
	is(bsp, 1, "exactly one boot processor");
	is(ioapics, 1, "one IOAPIC");
	is(ints, 16, "an interrupt entry for every ISA IRQ");
	is(e - t, len, "entries fill the table exactly");
	is(fw_write_mptable(ram, RAM, 0), -EINVAL, "zero CPUs refused");
	is(fw_write_mptable(ram, RAM, 300), -EINVAL, "more CPUs than APIC ids refused");
}

static void test_pagetables(void)
{
	is(fw_write_pagetables(ram, RAM), 0, "page tables written");
	uint64_t pml4, pdpt, pd1;
	memcpy(&pml4, ram + LAYOUT_PML4, 8);
	memcpy(&pdpt, ram + LAYOUT_PDPT, 8);
	memcpy(&pd1, ram + LAYOUT_PD + 8, 8);
	is(pml4 & ~0xfffULL, LAYOUT_PDPT, "PML4[0] points at the PDPT");
	is(pdpt & ~0xfffULL, LAYOUT_PD, "PDPT[0] points at the PD");
	is(pd1, (2ULL << 20) | 0x83, "PD[1] maps 2 MiB at 2 MiB, present, writable, large");
	is(fw_write_gdt(ram, RAM), 0, "GDT written");
	ok(fw_gdt_entry(FW_BOOT_CS / 8) >> 53 & 1, "boot CS is a 64-bit code segment");
}

static void test_initrd(void)
{
	gpa_t at;
	is(fw_initrd_placement(RAM, 0x1800, 0x2000000, &at), 0, "initramfs placed");
	is(at, RAM - 0x2000, "at the top of RAM, page aligned");
	is(fw_initrd_placement(RAM, RAM, 0x2000000, &at), -ENOSPC, "an initramfs over the kernel is refused");
	is(fw_initrd_placement(3ULL << 30, 0x1000, 0x2000000, &at), 0, "large RAM");
	ok(at + 0x1000 <= LAYOUT_INITRD_MAX + 1, "stays below initrd_addr_max");
}

int main(void)
{
	test_boot_params();
	test_mptable();
	test_pagetables();
	test_initrd();
	return tap_done();
}
