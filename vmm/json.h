// SPDX-License-Identifier: Apache-2.0
// Typed json-c lookups shared by the manifest and bundle readers.
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

// Typed lookups: NULL when the key is absent or of another type.
static inline json_object *get(json_object *o, const char *key, json_type type)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static inline const char *get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key, json_type_string);
	return v ? json_object_get_string(v) : NULL;
}

static inline bool get_bool(json_object *o, const char *key)
{
	json_object *v = get(o, key, json_type_boolean);
	return v && json_object_get_boolean(v);
}
