# SPDX-License-Identifier: Apache-2.0
# podman as the tests drive it, clearvm its runtime: sourced with the rootfs to import as the
# image clearvm-test. Sets pm (podman's state, a tmpfs directory), P0 (podman with that state),
# P (the same with clearvm as its runtime) and local_tmp (a prefix for runs with a terminal).
# Needs $build.

# podman's storage and run state on a local file system (vfs: no overlay on tmpfs needed),
# its caches in a tmpfs of the test bed's own, the host's /var untouched.
pm=$(mktemp -d /dev/shm/clearvm-podman.XXXXXX)
# In the test bed, cgroup2 too: without it podman drops --memory and --cpus.
if [ -n "${CLEARVM_IN_TESTBED:-}" ] && ! mountpoint -q /var/cache; then
	mount -t tmpfs tmpfs /var/cache && mkdir -p /var/cache/containers
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
# The runtime podman is given: clearvm, with this build's kernel and initramfs.
cat > "$pm/clearvm-runtime" <<-EOF2
	#!/bin/sh
	export CLEARVM_KERNEL=$build/vmlinux CLEARVM_INITRAMFS=$build/initramfs.cpio CLEARVM_TEMPLATE_DIR=${CLEARVM_TEMPLATE_DIR:-}
	exec $build/clearvm "\$@"
EOF2
chmod +x "$pm/clearvm-runtime"
P0=(env TMPDIR="$pm" podman --root "$pm/root" --runroot "$pm/run" --storage-driver vfs --cgroup-manager cgroupfs
    --events-backend file --tmpdir "$pm/tmp")
P=("${P0[@]}" --runtime "$pm/clearvm-runtime")
tar -C "$1" -c . | "${P[@]}" import -q - clearvm-test > /dev/null

# conmon makes its console socket in /tmp, which in the test bed is the host's over 9p (no
# sockets there): runs with a terminal get a tmpfs /tmp of their own, in a mount namespace where
# the build (perhaps under /tmp) is bound back at its own path.
local_tmp=()
if [ -n "${CLEARVM_IN_TESTBED:-}" ]; then
	mkdir -p "$pm/build"
	local_tmp=(unshare -m sh -c 'mount --bind "$0" "$1" && mount -t tmpfs tmpfs /tmp && mkdir -p "$0" &&
		   mount --bind "$1" "$0" && shift && exec "$@"' "$build" "$pm/build")
fi
