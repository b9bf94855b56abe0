// SPDX-License-Identifier: Apache-2.0
// The rkt stage1 entrypoints, all in the clearvm binary: rkt runs it under their names.
#pragma once

#include <stdbool.h>

// Whether argv[0] names a stage1 entrypoint (rkt-run, rkt-stop, rkt-gc, ...).
bool stage1_invoked(const char *argv0);
// Runs the entrypoint argv[0] names; returns the process's exit status.
int stage1_main(int argc, char **argv);
