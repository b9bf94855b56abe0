// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the launch spec from the VMM's builder to guest-init's reader. Any argv,
// environment, directory, hostname and volume (any bytes but NUL) must come out as a spec
// that guest-init reads back exactly, in a cpio archive, or be refused; never a malformed spec.
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest-init/spec_read.h"
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

static bool same_list(char *const *got, char *const *want)
{
	for (; *want; got++, want++)
		if (!*got || strcmp(*got, *want))
			return false;
	return !*got;
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
	cfg.nvolumes = s[2][0] == '/'; // the command line takes absolute targets only
	uint8_t *archive;
	size_t archive_size;
	void *fdt;
	size_t fdt_size;
	if (a && spec_build_fdt(&cfg, &fdt, &fdt_size) == 0) {
		struct launch_spec ls;
		const char *bad;
		if (launch_spec_read(fdt, fdt_size, 8, &ls, &bad) != 0 || ls.pod || ls.napps != 1)
			abort();
		const struct launch_workload *w = &ls.apps[0];
		if (!same_list(w->argv, argv) || !same_list(w->env, env) || strcmp(w->cwd, s[0]) ||
		    strcmp(ls.hostname, s[1]) || w->nvolumes != cfg.nvolumes)
			abort();
		if (w->nvolumes && (strcmp(w->volumes[0].target, s[2]) || w->volumes[0].readonly != (size & 1)))
			abort();
		launch_spec_free(&ls);
		free(fdt);
		if (spec_build_archive(&cfg, &archive, &archive_size) != 0 || archive_size % 4)
			abort();
		free(archive);
	}
	free(copy);
	return 0;
}
