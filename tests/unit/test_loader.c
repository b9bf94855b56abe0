// SPDX-License-Identifier: Apache-2.0
// vmlinux loader: a good image loads where its headers say; every malformed one is refused.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/loader.h"

#define RAM (32u << 20)
static uint8_t *ram; // page-aligned and zero-filled, as a fresh memfd mapping is

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
	return loader_load_elf((const uint8_t *)im, size, -1, ram, RAM, k);
}

// Is there a mapping of `file` starting exactly at `addr`?
static bool mapped_from(const void *addr, const char *file)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long a;
		found = sscanf(line, "%lx-", &a) == 1 && a == (uintptr_t)addr && strstr(line, file);
	}
	if (f)
		fclose(f);
	return found;
}

// Two segments sharing a page, in a real file: whole pages are mapped from the file, the
// shared page is assembled from both, and guest writes never reach the file.
static void test_mapped(void)
{
	enum { A = 0x1000, A_LEN = 0x2800, B = 0x3800, B_LEN = 0x2000, FILE_LEN = 0x6000 };
	static uint8_t file[FILE_LEN];
	for (unsigned i = 0; i < FILE_LEN; i++)
		file[i] = (uint8_t)(i * 7 + 1);
	struct image im = good();
	im.eh.e_phnum = 2;
	im.ph[0].p_offset = A, im.ph[0].p_filesz = im.ph[0].p_memsz = A_LEN;
	im.ph[1] = im.ph[0];
	im.ph[1].p_offset = B, im.ph[1].p_filesz = im.ph[1].p_memsz = B_LEN;
	im.ph[1].p_paddr = 0x1000000 + (B - A);
	memcpy(file, &im, offsetof(struct image, code));

	char path[] = "/tmp/clearvm-test-loader-XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0 && write(fd, file, FILE_LEN) == FILE_LEN, "image written to %s", path);
	struct loaded_kernel k;
	is(loader_load_elf(file, FILE_LEN, fd, ram, RAM, &k), 0, "loads with the file given");
	ok(!memcmp(ram + 0x1000000, file + A, A_LEN + B_LEN), "both segments' bytes in place");
	ok(mapped_from(ram + 0x1000000, path), "a whole page is mapped from the file, not copied");
	ok(!mapped_from(ram + 0x1000000 + (B - A) - 0x800, path), "the shared page is not mapped");
	ram[0x1000000] = 0x5a;
	uint8_t back = 0;
	ok(pread(fd, &back, 1, A) == 1 && back == file[A], "a guest write does not reach the file");
	close(fd);
	unlink(path);
}

int main(void)
{
	ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(ram != MAP_FAILED, "guest RAM");
	struct loaded_kernel k;
	struct image im = good();
	is(load(&im, sizeof(im), &k), 0, "a well-formed vmlinux loads");
	is(k.entry, 0x1000000, "entry point from e_entry");
	is(k.end, 0x1000000 + 4096, "end covers p_memsz");
	ok(ram[0x1000000] == 0xcc && ram[0x1000000 + 63] == 0xcc, "segment bytes copied to p_paddr");
	ok(ram[0x1000000 + 64] == 0 && ram[0x1000000 + 4095] == 0, "bss is the zero-filled RAM");
	memset(ram + 0x1000000, 0, 4096);
	test_mapped();

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
	im = good();
	im.eh.e_phnum = 2;
	im.ph[1] = im.ph[0];
	im.ph[1].p_paddr = RAM;
	memset(ram + 0x1000000, 0, 4096);
	is(load(&im, sizeof(im), &k), -ENOSPC, "a bad second segment...");
	ok(ram[0x1000000] == 0, "...and nothing of the first was placed");
	return tap_done();
}
