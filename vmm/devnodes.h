// SPDX-License-Identifier: Apache-2.0
// The host device nodes a VMM opens (devnodes.c): /dev/kvm, /dev/net/tun and /dev/vhost-net.
// A container's VMM joins the container's cgroup before it builds its VM, and an engine's cgroup
// may allow no device at all (podman's for a pod does): such a VMM opens them first.
#pragma once

// Opens each node now (one that cannot be opened is opened again at its use, and fails there).
void devnodes_preopen(void);
// path opened with flags: from what devnodes_preopen opened (/dev/kvm: a copy each time; the
// others: once, as each open of them is a device of its own), else opened now. An fd, or -1
// with errno.
int devnode_open(const char *path, int flags);
// Closes what was opened early and not taken (the VM is built).
void devnodes_close(void);
