#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up clearvm on a Debian 12 machine, top to bottom: installs the packages it needs,
# builds the VMM, guest-init, the guest kernel (cached outside the tree) and a busybox demo
# rootfs, then runs a demo container (inside the test bed where the host's KVM needs it).
# Usage: ./setup.sh [--no-demo]
set -euo pipefail
cd "$(dirname "$0")"

packages=(
	gcc make pkg-config meson ninja-build file cpio         # the build
	libfdt-dev liburing-dev libjson-c-dev libseccomp-dev linux-libc-dev
	busybox-static                                         # demo rootfs, test bed init
	linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils  # the guest kernel
	qemu-system-x86 kmod                                   # the test bed
	tmux                                                   # the interactive -t tests
	procps util-linux python3                              # pgrep, flock, JSON checks in tests
	passt iproute2                                         # the guest network (--network passt)
	podman containerd                                      # the OCI runtime cases (podman 4.3 and containerd 1.6 drive clearvm)
	catatonit                                              # podman's pause image for a pod's infra container
	containernetworking-plugins iptables                   # podman's default network (CNI bridge, -p)
	debootstrap                                            # a Debian 12 userland image for the tests
)
sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# CNI keeps its state in /var/lib/cni (podman makes it on its first network); made here, so the
# test bed, whose root is this machine's read-only, can mount a tmpfs of its own on it.
[ -d /var/lib/cni ] || $sudo mkdir -p /var/lib/cni

[ -f build/build.ninja ] || meson setup build
ninja -C build

# The tests' Debian 12 userland (cached outside the tree): without it, its checks fail and say so.
tests/tools/debian-rootfs.sh > /dev/null || echo "setup: warning: no Debian image for the tests (see above)"

if [ "${1:-}" != --no-demo ]; then
	echo "setup: demo: a busybox container in its own VM"
	tests/with-kvm -- build/clearvm --kernel build/vmlinux --initramfs build/initramfs.cpio \
		--rootfs build/rootfs -- /bin/sh -c \
		'echo "hello from $(uname -sr) on $(grep -c ^processor /proc/cpuinfo) vCPU, in a clearvm guest"; echo "and this is stderr" >&2; exit 3' ||
		echo "setup: the demo exited with status $? (3 is what it asked for)"
fi
