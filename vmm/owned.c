// SPDX-License-Identifier: Apache-2.0
// What a parsed configuration owns, freed with it.
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "owned.h"

static void *take(struct owned *o, void *p)
{
	if (p && o->n == OWNED_MAX) {
		free(p);
		return NULL;
	}
	if (p)
		o->p[o->n++] = p;
	return p;
}

const char *owned_printf(struct owned *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : take(o, s);
}

char **owned_argv(struct owned *o, json_object *list, size_t *bad)
{
	size_t n = list ? json_object_array_length(list) : 0;
	char **argv = take(o, calloc(n + 1, sizeof(*argv)));
	*bad = SIZE_MAX;
	if (!argv)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(list, i);
		if (!json_object_is_type(s, json_type_string)) {
			*bad = i;
			return NULL;
		}
		argv[i] = (char *)json_object_get_string(s);
	}
	return argv;
}

void owned_free(struct owned *o)
{
	for (unsigned i = 0; i < o->n; i++)
		free(o->p[i]);
	o->n = 0;
}
