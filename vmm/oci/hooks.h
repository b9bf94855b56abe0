// SPDX-License-Identifier: Apache-2.0
// config.json's hooks, run on the host (hooks.c): prestart and createRuntime at create, once
// the VM is built; poststart at start; poststop at delete. createContainer and startContainer
// (in the container's namespaces, which are the guest's) are refused by bundle.c.
#pragma once

#include <json-c/json.h>

#include "state.h"

// Runs config.json's hooks of `kind` in order, each with the state (runtime-spec's state
// JSON) on its stdin, its output kept for the error. 0, or -errno with the first that failed
// (status, signal, timeout) logged; those after it are not run.
int hooks_run(json_object *hooks, const char *kind, const struct oci_state *s);
// The hooks object of the bundle in dir (start and delete read it again). The parsed document
// (json_object_put it), or NULL when there is none or it cannot be read (nothing to run).
json_object *hooks_load(const char *dir, json_object **hooks);
