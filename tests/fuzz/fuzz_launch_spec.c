// SPDX-License-Identifier: Apache-2.0
// Fuzz target: guest-init's launch spec reader on any bytes. It either refuses them or gives a
// spec whose every string ends inside the blob, whose argv are never empty, and whose volume
// targets are absolute; it never reads outside the blob.
#include <stdlib.h>
#include <string.h>

#include "../../guest-init/spec_read.h"
#include "fuzz.h"

static const uint8_t *blob;
static size_t blob_size;

static void check_str(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	if (!s || p < blob || p >= blob + blob_size || !memchr(p, '\0', blob_size - (size_t)(p - blob)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	// The reader wants the FDT aligned as the initramfs gives it (malloc'd).
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	blob = copy;
	blob_size = size;
	struct launch_spec ls;
	const char *bad = NULL;
	int r = launch_spec_read(copy, size, 8, &ls, &bad);
	if (r < 0 && !bad)
		abort(); // an error that names nothing
	if (r == 0) {
		check_str(ls.hostname);
		if (!ls.napps || ls.napps > 8 || (!ls.pod && ls.napps != 1))
			abort();
		for (unsigned i = 0; i < ls.napps; i++) {
			const struct launch_workload *w = &ls.apps[i];
			if (!w->argv[0] || (ls.pod && !w->name))
				abort();
			for (char **a = w->argv; *a; a++)
				check_str(*a);
			for (char **e = w->env; *e; e++)
				check_str(*e);
			check_str(w->cwd);
			check_str(w->root_tag);
			for (size_t v = 0; v < w->nvolumes; v++) {
				check_str(w->volumes[v].tag);
				check_str(w->volumes[v].target);
				if (w->volumes[v].target[0] != '/')
					abort();
			}
		}
	}
	launch_spec_free(&ls);
	free(copy);
	return 0;
}
