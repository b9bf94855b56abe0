// SPDX-License-Identifier: Apache-2.0
// Every guest-physical address, port and IRQ clearvm uses, each with the reason it is there.
#pragma once

#include <stdint.h>

typedef uint64_t gpa_t;

#define LAYOUT_GDT 0x500ULL          // boot GDT: below anything the kernel reads at entry
#define LAYOUT_BOOT_PARAMS 0x7000ULL // the "zero page" handed to the kernel in RSI
#define LAYOUT_BOOT_STACK 0x8ff0ULL  // RSP at entry; the kernel switches stacks at once
#define LAYOUT_PML4 0x9000ULL        // identity page tables: PML4, PDPT, PD (first 1 GiB)
#define LAYOUT_PDPT 0xa000ULL
#define LAYOUT_PD 0xb000ULL
#define LAYOUT_CMDLINE 0x20000ULL    // kernel command line, up to LAYOUT_CMDLINE_MAX bytes
#define LAYOUT_CMDLINE_MAX 4096U
#define LAYOUT_EBDA 0x9fc00ULL       // MP table lives here; e820 reserves it up to 1 MiB
#define LAYOUT_HIGH_MEM 0x100000ULL  // RAM from 1 MiB on is usable by the kernel
#define LAYOUT_INITRD_MAX 0x7fffffffULL // initrd_addr_max of the x86-64 boot protocol

// The 32-bit hole below 4 GiB: virtio-mmio slots, then the IOAPIC and LAPIC of KVM's irqchip.
#define LAYOUT_MMIO_HOLE 0xc0000000ULL
#define LAYOUT_VIRTIO_BASE 0xd0000000ULL // virtio-mmio slot i at BASE + i * SIZE
#define LAYOUT_VIRTIO_SIZE 0x1000ULL
#define LAYOUT_VIRTIO_IRQ0 5U            // slot i raises IRQ 5 + i (IOAPIC pin = ISA IRQ)...
#define LAYOUT_VIRTIO_IRQ_LAST 3U        // ...the last slot IRQ 3 (COM2's, unused here)
#define LAYOUT_VIRTIO_SLOTS 12U          // root, 8 volumes, console, balloon, network card
static inline unsigned layout_virtio_irq(unsigned slot)
{
	return slot + 1 == LAYOUT_VIRTIO_SLOTS ? LAYOUT_VIRTIO_IRQ_LAST : LAYOUT_VIRTIO_IRQ0 + slot;
}
#define LAYOUT_IOAPIC 0xfec00000ULL
#define LAYOUT_LAPIC 0xfee00000ULL
#define LAYOUT_MAX_RAM LAYOUT_MMIO_HOLE   // guest RAM is one slot below the hole
#define LAYOUT_MAX_RAM_MIB (LAYOUT_MAX_RAM >> 20)

#define LAYOUT_KVM_TSS 0xfffbd000ULL      // Intel's KVM needs 3 pages for its real-mode TSS
#define LAYOUT_KVM_IDENTITY 0xfffbc000ULL // and one for its identity map

// Ports of the debug console and of guest-init's channel to the VMM (see guest-init/abi.h).
#define LAYOUT_SERIAL_PORT 0x3f8U
#define LAYOUT_SERIAL_IRQ 4U
