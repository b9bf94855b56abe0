// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the vmlinux loader with any bytes as the kernel file. It must refuse or load
// within guest RAM, never read past the image or write past RAM (ASan watches both).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../vmm/loader.h"
#include "fuzz.h"

#define RAM (64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	if (!ram) {
		ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (ram == MAP_FAILED)
			abort();
	}
	// A copy of exactly `size` bytes, so that a read past the image is caught.
	uint8_t *image = malloc(size ? size : 1);
	if (!image)
		return 0;
	memcpy(image, data, size);
	struct loaded_kernel k;
	if (loader_load_elf(image, size, -1, ram, RAM, &k) == 0 && (k.end > RAM || k.entry >= RAM))
		abort(); // loaded, but not within guest RAM
	free(image);
	return 0;
}
