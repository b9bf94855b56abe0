#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# On a host whose KVM cannot run guest user space (kvm_pvm), clearvm refuses at once with 125
# and one line, instead of booting a guest that dies at its first system call. TAP output.
# Usage: refuse-pvm.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
if [ ! -e /sys/module/kvm_pvm ]; then
	echo "1..0 # SKIP this host's KVM is not kvm_pvm"
	exit 0
fi
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
	--rootfs "$build/rootfs" -- /bin/true 2> "$err"
rc=$?
echo "1..2"
[ $rc = 125 ] && echo "ok 1 - exit status 125" || echo "not ok 1 - exit status 125 (got $rc)"
[ "$(wc -l < "$err")" = 1 ] && grep -q 'cannot run a guest' "$err" &&
	echo "ok 2 - one line saying why" || echo "not ok 2 - one line saying why"
