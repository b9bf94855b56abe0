// SPDX-License-Identifier: Apache-2.0
// Memory a parsed configuration owns (strings it built, argv arrays), freed together
// (owned.c): the pod manifest and OCI bundle readers.
#pragma once

#include <json-c/json.h>
#include <stddef.h>

#define OWNED_MAX 64

struct owned {
	void *p[OWNED_MAX];
	unsigned n;
};

// printf into a new string that o owns; NULL when out of memory or o is full.
const char *owned_printf(struct owned *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
// A NULL-terminated argv of a JSON array's strings (pointing into the JSON), owned by o. NULL
// when an element is not a string (*bad: its index) or out of memory (*bad: SIZE_MAX).
char **owned_argv(struct owned *o, json_object *list, size_t *bad);
void owned_free(struct owned *o);
