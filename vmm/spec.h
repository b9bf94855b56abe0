// SPDX-License-Identifier: Apache-2.0
// The launch spec (guest-init/abi.h): a flattened device tree carried in a cpio archive.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"

// Builds the spec FDT for cfg into a malloc'd buffer. 0 or -errno.
int spec_build_fdt(const struct vm_config *cfg, void **fdt, size_t *size);
// The spec for a VM restored from a template: the same, plus the host's time now and
// SPEC_SEED_BYTES from getrandom() for the guest's random pool. 0 or -errno.
#define SPEC_SEED_BYTES 64
int spec_build_restored(const struct vm_config *cfg, void **fdt, size_t *size);
// The 9p mount tags: volume `index` (counted over the whole VM: a pod's apps in order, each
// app's volumes in order) and the root of app `index` of a pod.
void spec_volume_tag(unsigned index, char *buf, size_t size);
void spec_app_tag(unsigned index, char *buf, size_t size);
// Wraps `data` as the file `path` (its parent directory included) in a newc cpio archive,
// 4-byte aligned and ending in the trailer. 0 or -errno.
int spec_build_cpio(const char *path, const void *data, size_t size, uint8_t **out, size_t *out_size);
// Both: the spec for cfg as the archive to append to guest-init's initramfs. 0 or -errno.
int spec_build_archive(const struct vm_config *cfg, uint8_t **out, size_t *out_size);
