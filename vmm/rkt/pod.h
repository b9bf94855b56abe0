// SPDX-License-Identifier: Apache-2.0
// rkt's pod manifest (appc PodManifest, as rkt 1.30 writes it) read into the configuration of
// one VM running every app of the pod.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "../owned.h"

#define POD_MEMORY_OVERHEAD_MIB 64 // the guest kernel, guest-init and the 9p page cache

struct pod {
	struct vm_config vm; // memory, cpus, hostname and the apps; the rest as clearvm's defaults
	struct vm_config apps[CONFIG_MAX_APPS];
	struct owned owned; // strings and argv arrays the configs point to
	void *manifest; // the parsed JSON (json_object), which the configs also point into
};

// Parses the manifest text for the pod in directory pod_dir (absolute): apps' root
// filesystems under pod_dir/stage1/rootfs/opt/stage2/NAME/rootfs, "empty" volumes made under
// pod_dir/clearvm/volumes. Sets vm.memory_mib and vm.cpus from the isolators. 0, or -errno
// with one line logged (bad manifest, missing rootfs, unsupported isolator or volume).
int pod_load(const char *text, size_t len, const char *pod_dir, struct pod *pod);
void pod_free(struct pod *pod);

// Kubernetes-style quantities as appc isolators use them: "128M" = 128e6, "128Mi" = 128 << 20,
// plain numbers are bytes; CPU "500m" = 500 millicores, "2" or "1.5" cores. 0 or -EINVAL.
// rkt's default capability bounding set for an app (bit N: capability N): the capabilities
// docker also keeps, which the isolators os/linux/capabilities-retain-set and -remove-set change.
uint64_t pod_default_caps(void);

int pod_parse_bytes(const char *s, uint64_t *bytes);
int pod_parse_millicores(const char *s, uint64_t *millicores);
