// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the launch spec builder. Any argv, environment, directory, hostname and volumes
// (any bytes but NUL) must come out as a valid FDT in a cpio archive that gives them back
// exactly, or be refused; never a malformed spec.
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/spec.h"
#include "fuzz.h"

// Splits data at NUL bytes into at most max strings (the rest is dropped).
static size_t split(char *data, size_t size, char **out, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= size && n < max; i++)
		if (i == size || data[i] == '\0') {
			out[n++] = data + start;
			start = i + 1;
		}
	return n;
}

static bool same_list(const void *fdt, const char *prop, char *const *list)
{
	int len;
	const char *p = fdt_getprop(fdt, 0, prop, &len);
	size_t off = 0;
	for (; *list; list++) {
		size_t l = strlen(*list) + 1;
		if (!p || off + l > (size_t)len || memcmp(p + off, *list, l))
			return false;
		off += l;
	}
	return p && off == (size_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *s[64];
	size_t n = split(copy, size, s, 64);
	if (n < 4) {
		free(copy);
		return 0;
	}
	// s[0]: workdir, s[1]: hostname, s[2]: a volume target, then argv (until an empty
	// string), then the environment.
	char *argv[64] = {0}, *env[64] = {0};
	size_t a = 0, e = 0, i = 3;
	for (; i < n && s[i][0]; i++)
		argv[a++] = s[i];
	for (i++; i < n; i++)
		env[e++] = s[i];
	struct vm_config cfg = {.workdir = s[0], .hostname = s[1], .argv = argv, .env = env, .nenv = e,
				.rootfs = "/", .nvolumes = 1};
	cfg.volumes[0] = (struct vm_volume){.host = "/", .guest = s[2], .readonly = size & 1};
	uint8_t *archive;
	size_t archive_size;
	void *fdt;
	size_t fdt_size;
	if (a && spec_build_fdt(&cfg, &fdt, &fdt_size) == 0) {
		if (fdt_check_full(fdt, fdt_size) != 0 || !same_list(fdt, "argv", argv) || !same_list(fdt, "env", env))
			abort();
		const char *cwd = fdt_getprop(fdt, 0, "cwd", NULL);
		if (!cwd || strcmp(cwd, s[0]))
			abort();
		free(fdt);
		if (spec_build_archive(&cfg, &archive, &archive_size) != 0 || archive_size % 4)
			abort();
		free(archive);
	}
	free(copy);
	return 0;
}
