// SPDX-License-Identifier: Apache-2.0
// vmlinux loader: every header and segment is checked against the file and guest RAM before
// anything is placed.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "loader.h"
#include "util.h"

#define KERNEL_MIN_PADDR 0x100000ULL // the kernel never loads below 1 MiB
#define PAGE 4096ULL

static void phdr(const uint8_t *image, const Elf64_Ehdr *eh, unsigned i, Elf64_Phdr *ph)
{
	memcpy(ph, image + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

int loader_place(uint8_t *dst, const uint8_t *src, uint64_t len, int fd, uint64_t off)
{
	uint64_t head = ALIGN_UP((uintptr_t)dst, PAGE) - (uintptr_t)dst;
	uint64_t body = len > head ? ALIGN_DOWN(len - head, PAGE) : 0;
	if (fd < 0 || off % PAGE != (uintptr_t)dst % PAGE || !body) {
		memcpy(dst, src, len);
		return 0;
	}
	memcpy(dst, src, head);
	memcpy(dst + head + body, src + head + body, len - head - body);
	void *p = mmap(dst + head, body, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE,
		       fd, (off_t)(off + head));
	return p == MAP_FAILED ? -errno : 0;
}

int loader_load_elf(const uint8_t *image, size_t size, int fd, uint8_t *mem, uint64_t mem_size,
		    struct loaded_kernel *out)
{
	Elf64_Ehdr eh;
	if (size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, image, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
		return -ENOEXEC;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size))
		return -EINVAL;

	uint64_t end = 0;
	unsigned loads = 0;
	bool entry_ok = false;
	Elf64_Phdr ph;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		phdr(image, &eh, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || !range_ok(ph.p_offset, ph.p_filesz, size))
			return -EINVAL;
		if (ph.p_paddr < KERNEL_MIN_PADDR || !range_ok(ph.p_paddr, ph.p_memsz, mem_size))
			return -ENOSPC;
		end = MAX(end, ph.p_paddr + ph.p_memsz);
		if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_filesz)
			entry_ok = true;
		loads++;
	}
	if (!loads || !entry_ok)
		return -EINVAL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		phdr(image, &eh, i, &ph);
		int r = ph.p_type != PT_LOAD ? 0
			: loader_place(mem + ph.p_paddr, image + ph.p_offset, ph.p_filesz, fd, ph.p_offset);
		if (r < 0)
			return r;
	}
	out->entry = eh.e_entry;
	out->end = end;
	return 0;
}
