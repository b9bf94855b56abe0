/* SPDX-License-Identifier: Apache-2.0 */
/* A hostile guest for clearvm's guest-fault tests: a tiny "kernel" entered at clearvm's 64-bit
 * entry point (paging on, the first 1 GiB identity-mapped) that misbehaves one way, chosen
 * with -DMODE when it is built:
 *   1 hang:    interrupts off, halts forever, never reports a status
 *   2 triple:  executes ud2 with no IDT: a triple fault
 *   3 flood:   7,680 writes and reads at pseudo-random offsets of the first three
 *              virtio-mmio slots with changing values (queue addresses outside RAM, bogus
 *              sizes, resets, notifies), then reports status 7
 *   4 corrupt: sets up the console's transmit queue properly, points its descriptor at a
 *              chain that loops and at addresses outside RAM, notifies, then reports 9
 * The exit port is guest-init's (ABI_EXIT_PORT). */
#define EXIT_PORT 0x5f0
#define VIRTIO_BASE 0xd0000000
#define SLOT 0x1000

	.text
	.globl _start
	.code64
_start:
#if MODE == 1
	cli
1:	hlt
	jmp 1b
#elif MODE == 2
	lidt idt_none(%rip)
	ud2
#else
	/* Map the 4th GiB (the virtio slots) with our own page tables. */
	lea pml4(%rip), %rax
	mov %rax, %cr3
#if MODE == 3
	mov $10, %r8d
	mov $0x12345678, %esi
	mov $(VIRTIO_BASE + 3 * SLOT), %r9
flood:
	mov $VIRTIO_BASE, %rdi
	mov $(3 * SLOT / 4), %ecx
regs:
	imul $0x9e3779b9, %esi, %esi
	add $1, %esi
	mov %esi, %eax
	and $0xffc, %eax          /* an offset within the slot */
	mov %rdi, %rdx
	add %rax, %rdx
	mov %esi, (%rdx)          /* write anything anywhere in the slot */
	mov (%rdx), %eax          /* and read it back */
	add $SLOT, %rdi
	cmp %r9, %rdi
	jb 1f
	mov $VIRTIO_BASE, %rdi
1:	dec %ecx
	jnz regs
	dec %r8d
	jnz flood
	mov $7, %eax
#else
	mov $(VIRTIO_BASE + 1 * SLOT), %rdi  /* slot 1: the console */
	movl $0, 0x70(%rdi)                 /* reset */
	movl $3, 0x70(%rdi)                 /* ACKNOWLEDGE | DRIVER */
	movl $1, 0x24(%rdi)                 /* driver features, high word: VERSION_1 */
	movl $1, 0x20(%rdi)
	movl $0, 0x24(%rdi)
	movl $0, 0x20(%rdi)
	movl $11, 0x70(%rdi)                /* | FEATURES_OK */
	movl $1, 0x30(%rdi)                 /* queue 1: port 0's transmit */
	movl $8, 0x38(%rdi)
	lea ring(%rip), %rax
	mov %eax, 0x80(%rdi)                /* descriptors */
	movl $0, 0x84(%rdi)
	lea 0x100(%rax), %rdx
	mov %edx, 0x90(%rdi)                /* available ring */
	movl $0, 0x94(%rdi)
	lea 0x200(%rax), %rdx
	mov %edx, 0xa0(%rdi)                /* used ring */
	movl $0, 0xa4(%rdi)
	movl $1, 0x44(%rdi)                 /* ready */
	movl $15, 0x70(%rdi)                /* | DRIVER_OK */
	movl $1, 0x50(%rdi)                 /* notify: a chain that loops */
	/* The same queue again, its descriptor table now past the end of RAM. */
	movl $0, 0x70(%rdi)
	movl $11, 0x70(%rdi)
	movl $1, 0x30(%rdi)
	movl $8, 0x38(%rdi)
	movl $0xfffff000, 0x80(%rdi)
	movl $0x7fff, 0x84(%rdi)
	movl $1, 0x44(%rdi)
	movl $15, 0x70(%rdi)
	movl $1, 0x50(%rdi)
	movl $1000, 0x50(%rdi)              /* a queue that does not exist */
	mov $9, %eax
#endif
	mov $EXIT_PORT, %dx
	out %eax, %dx
2:	hlt
	jmp 2b
#endif

	.data
	.p2align 4
idt_none:
	.word 0
	.quad 0

	.p2align 12
/* Page tables: 0-1 GiB and 3-4 GiB identity-mapped with 2 MiB pages. */
pml4:
	.quad pdpt + 3
	.fill 511, 8, 0
pdpt:
	.quad pd0 + 3
	.quad 0
	.quad 0
	.quad pd3 + 3
	.fill 508, 8, 0
pd0:
	.set i, 0
	.rept 512
	.quad (i << 21) + 0x83
	.set i, i + 1
	.endr
pd3:
	.set i, 0
	.rept 512
	.quad 0xc0000000 + (i << 21) + 0x83
	.set i, i + 1
	.endr
/* The console queue's rings: descriptor 0 -> 1 -> 0 ..., a loop; the available ring offers
 * head 0. */
ring:
	.quad 0x1000000
	.long 16
	.word 1, 1
	.quad 0x1000000
	.long 16
	.word 1, 0
	.fill 0x100 - 32, 1, 0
	.word 0, 1, 0
	.fill 0x100 - 6, 1, 0
	.fill 0x100, 1, 0
