// SPDX-License-Identifier: Apache-2.0
// vmlinux loader: every header and segment is checked against the file and guest RAM before use.
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "loader.h"
#include "util.h"

#define KERNEL_MIN_PADDR 0x100000ULL // the kernel never loads below 1 MiB

int loader_load_elf(const uint8_t *image, size_t size, uint8_t *mem, uint64_t mem_size,
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
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, image + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_filesz > ph.p_memsz || !range_ok(ph.p_offset, ph.p_filesz, size))
			return -EINVAL;
		if (ph.p_paddr < KERNEL_MIN_PADDR || !range_ok(ph.p_paddr, ph.p_memsz, mem_size))
			return -ENOSPC;
		memcpy(mem + ph.p_paddr, image + ph.p_offset, ph.p_filesz);
		memset(mem + ph.p_paddr + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		end = MAX(end, ph.p_paddr + ph.p_memsz);
		if (eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_filesz)
			entry_ok = true;
		loads++;
	}
	if (!loads || !entry_ok)
		return -EINVAL;
	out->entry = eh.e_entry;
	out->end = end;
	return 0;
}
