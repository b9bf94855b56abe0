// SPDX-License-Identifier: Apache-2.0
// clearvm as an OCI runtime: `clearvm [GLOBAL FLAGS] create|start|state|kill|delete|ps|features
// ...` as runc takes them (oci.c).
#pragma once

#include <stdbool.h>

// argv is an OCI runtime command: its first word after runc's global flags (--root, --log,
// --log-format, --systemd-cgroup, --debug, ...) is one of the commands.
bool oci_invoked(int argc, char **argv);
// Runs it: 0, or 1 with one line logged (stderr, or --log's file); create's VMM process
// exits with the container's status.
int oci_main(int argc, char **argv);
