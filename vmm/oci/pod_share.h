// SPDX-License-Identifier: Apache-2.0
// A Kubernetes pod's app containers in one VM (pod_share.c). The pod's first app container
// makes the VM (it takes over the pod's network namespace); its state directory holds pod/,
// a directory bound on itself with shared propagation and served to the guest as the pod share
// (a volume marked `pod`, whose file server's jail follows the host's mounts beneath it). Each
// later container of the pod binds its root at pod/ID and each of its volumes at pod/.ID/N on
// the host; the share carries them into the guest, where guest-init makes the container's
// world there and runs its process (ABI_ENTER_CONTAINER) for this container's host process.
#pragma once

#include <stddef.h>

#include "../config.h"
#include "state.h"

// The pod's VM: s->dir/pod made and added to cfg's volumes as the pod share, and the network
// namespace noted in s (not when cfg has every volume slot taken: then no later container
// can join it). 0 or -errno (logged).
int pod_share_add(struct oci_state *s, const char *netns_path, struct vm_config *cfg);
// The container of root_dir whose VM serves the pod of the network namespace netns_path, into
// owner, its VMM's pid into *pid: 1 found, 0 none.
int pod_find(const char *root_dir, const char *netns_path, char *owner, size_t size, pid_t *pid);
// A later container's root and volumes (cfg's) bound in the pod share of owner_dir. 0 or
// -errno (logged; what was bound is unbound).
int pod_bind(const char *owner_dir, const char *id, const struct vm_config *cfg);
// What pod_bind made, taken away (where it is still there).
void pod_unbind(const char *owner_dir, const char *id, unsigned nvolumes);
// The pod share of a VM's container at dir, taken down with everything bound in it.
void pod_share_remove(const char *dir);
