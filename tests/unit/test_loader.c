// SPDX-License-Identifier: Apache-2.0
// vmlinux loader: a good image loads where its headers say; every malformed one is refused.
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "../harness/tap.h"
#include "../../vmm/loader.h"

#define RAM (32u << 20)
static uint8_t ram[RAM];

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t code[64];
};

static struct image good(void)
{
	struct image im;
	memset(&im, 0, sizeof(im));
	memcpy(im.eh.e_ident, ELFMAG, SELFMAG);
	im.eh.e_ident[EI_CLASS] = ELFCLASS64;
	im.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im.eh.e_type = ET_EXEC;
	im.eh.e_machine = EM_X86_64;
	im.eh.e_entry = 0x1000000;
	im.eh.e_phoff = offsetof(struct image, ph);
	im.eh.e_phentsize = sizeof(Elf64_Phdr);
	im.eh.e_phnum = 1;
	im.ph[0].p_type = PT_LOAD;
	im.ph[0].p_offset = offsetof(struct image, code);
	im.ph[0].p_paddr = 0x1000000;
	im.ph[0].p_filesz = sizeof(im.code);
	im.ph[0].p_memsz = 4096; // the rest is bss and must be zeroed
	memset(im.code, 0xcc, sizeof(im.code));
	return im;
}

static int load(struct image *im, size_t size, struct loaded_kernel *k)
{
	return loader_load_elf((const uint8_t *)im, size, ram, RAM, k);
}

int main(void)
{
	struct loaded_kernel k;
	struct image im = good();
	memset(ram, 0x55, RAM);
	is(load(&im, sizeof(im), &k), 0, "a well-formed vmlinux loads");
	is(k.entry, 0x1000000, "entry point from e_entry");
	is(k.end, 0x1000000 + 4096, "end covers p_memsz");
	ok(ram[0x1000000] == 0xcc && ram[0x1000000 + 63] == 0xcc, "segment bytes copied to p_paddr");
	ok(ram[0x1000000 + 64] == 0 && ram[0x1000000 + 4095] == 0, "bss zeroed");

	im = good();
	im.eh.e_ident[EI_MAG1] = 'X';
	is(load(&im, sizeof(im), &k), -ENOEXEC, "bad magic: not an ELF");
	im = good();
	im.eh.e_machine = EM_AARCH64;
	is(load(&im, sizeof(im), &k), -ENOEXEC, "another architecture is refused");
	is(load(&im, 10, &k), -ENOEXEC, "a file shorter than the ELF header");

	im = good();
	im.eh.e_phnum = 1000;
	is(load(&im, sizeof(im), &k), -EINVAL, "program headers past the end of the file");
	im = good();
	im.ph[0].p_filesz = 1u << 20;
	is(load(&im, sizeof(im), &k), -EINVAL, "segment data past the end of the file");
	im = good();
	im.ph[0].p_memsz = 1;
	is(load(&im, sizeof(im), &k), -EINVAL, "p_filesz larger than p_memsz");
	im = good();
	im.ph[0].p_paddr = RAM - 16;
	is(load(&im, sizeof(im), &k), -ENOSPC, "segment ending past guest RAM");
	im = good();
	im.ph[0].p_paddr = UINT64_MAX - 10;
	is(load(&im, sizeof(im), &k), -ENOSPC, "segment address that wraps around");
	im = good();
	im.ph[0].p_paddr = 0x1000;
	is(load(&im, sizeof(im), &k), -ENOSPC, "segment below 1 MiB (firmware tables live there)");
	im = good();
	im.eh.e_entry = 0x2000000;
	is(load(&im, sizeof(im), &k), -EINVAL, "entry point outside every segment");
	im = good();
	im.ph[0].p_type = PT_NOTE;
	is(load(&im, sizeof(im), &k), -EINVAL, "no PT_LOAD segment");
	return tap_done();
}
