// SPDX-License-Identifier: Apache-2.0
// The libFuzzer entry point every target defines (tests/fuzz/): built with clang's
// -fsanitize=fuzzer by tests/fuzz/run.sh, and with replay.c into a program meson test runs
// over the target's corpus and regression files.
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
