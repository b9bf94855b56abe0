// SPDX-License-Identifier: Apache-2.0
// The Intel MultiProcessor table: how a kernel without ACPI finds the CPUs, the IOAPIC and
// which ISA IRQ reaches which IOAPIC pin.
#include <errno.h>
#include <string.h>

#include "firmware.h"
#include "../vmm/util.h"

#define MP_SPEC_REV 4
#define MP_ENTRY_CPU 0
#define MP_ENTRY_BUS 1
#define MP_ENTRY_IOAPIC 2
#define MP_ENTRY_IOINT 3
#define MP_ENTRY_LINT 4
#define MP_CPU_ENABLED 1
#define MP_CPU_BSP 2
#define MP_INT 0
#define MP_NMI 1
#define MP_EXTINT 3
#define APIC_VERSION 0x14
#define IOAPIC_VERSION 0x11
#define IOAPIC_PINS 16 // the ISA IRQs; virtio slots use 5..15

struct mpf {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t specrev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_header {
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t count;
	uint32_t lapic;
	uint16_t reserved[2];
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	while (len--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

static size_t mptable_size(unsigned ncpus)
{
	return sizeof(struct mpf) + sizeof(struct mpc_header) + ncpus * sizeof(struct mpc_cpu) +
	       sizeof(struct mpc_bus) + sizeof(struct mpc_ioapic) +
	       (IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc);
}

int fw_write_mptable(uint8_t *mem, uint64_t mem_size, unsigned ncpus)
{
	// APIC ids 0..ncpus-1, the IOAPIC takes the next id; all must fit in 8 bits.
	if (ncpus == 0 || ncpus > 254)
		return -EINVAL;
	size_t size = mptable_size(ncpus);
	if (size > LAYOUT_HIGH_MEM - LAYOUT_EBDA || !range_ok(LAYOUT_EBDA, size, mem_size))
		return -ENOSPC;
	uint8_t *base = mem + LAYOUT_EBDA;
	memset(base, 0, size);

	struct mpf *mpf = (struct mpf *)base;
	uint8_t *table = base + sizeof(*mpf);
	struct mpc_header *hdr = (struct mpc_header *)table;
	uint8_t *p = table + sizeof(*hdr);
	uint16_t count = 0;
	uint8_t ioapic_id = (uint8_t)ncpus;

	for (unsigned i = 0; i < ncpus; i++, count++) {
		struct mpc_cpu cpu = {
			.type = MP_ENTRY_CPU, .apicid = (uint8_t)i, .apicver = APIC_VERSION,
			.cpuflag = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.cpufeature = 0x600, .featureflag = 0x201, // family 6; FPU, APIC
		};
		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	struct mpc_bus bus = {.type = MP_ENTRY_BUS, .busid = 0, .bustype = {'I', 'S', 'A', ' ', ' ', ' '}};
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	count++;
	struct mpc_ioapic ioapic = {.type = MP_ENTRY_IOAPIC, .apicid = ioapic_id,
				    .apicver = IOAPIC_VERSION, .flags = 1,
				    .apicaddr = (uint32_t)LAYOUT_IOAPIC};
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	count++;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++, count++) {
		struct mpc_intsrc is = {.type = MP_ENTRY_IOINT, .irqtype = MP_INT, .irqflag = 0,
					.srcbus = 0, .srcbusirq = (uint8_t)pin,
					.dstapic = ioapic_id, .dstirq = (uint8_t)pin};
		memcpy(p, &is, sizeof(is));
		p += sizeof(is);
	}
	// LINT0 takes the 8259's ExtINT, LINT1 the NMI, on every local APIC (0xff).
	struct mpc_intsrc lint0 = {.type = MP_ENTRY_LINT, .irqtype = MP_EXTINT, .dstapic = 0xff, .dstirq = 0};
	struct mpc_intsrc lint1 = {.type = MP_ENTRY_LINT, .irqtype = MP_NMI, .dstapic = 0xff, .dstirq = 1};
	memcpy(p, &lint0, sizeof(lint0));
	p += sizeof(lint0);
	memcpy(p, &lint1, sizeof(lint1));
	p += sizeof(lint1);
	count += 2;

	memcpy(hdr->signature, "PCMP", 4);
	hdr->length = (uint16_t)(p - table);
	hdr->spec = MP_SPEC_REV;
	memcpy(hdr->oem, "CLEARVM ", 8);
	memcpy(hdr->product, "MICROVM     ", 12);
	hdr->count = count;
	hdr->lapic = (uint32_t)LAYOUT_LAPIC;
	hdr->checksum = checksum(table, hdr->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(LAYOUT_EBDA + sizeof(*mpf));
	mpf->length = 1; // in 16-byte units
	mpf->specrev = MP_SPEC_REV;
	mpf->checksum = checksum((uint8_t *)mpf, sizeof(*mpf));
	return 0;
}
