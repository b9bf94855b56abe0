#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What /dev/kvm is decides everything (vmm/kvm_host.c): missing, the software kvm_pvm, or a
# hardware KVM. On this host, and on a missing and a software /dev/kvm made in private mount
# namespaces (so every kind of host runs every check it can): `clearvm --check-kvm` names the
# kind, a run on a KVM that cannot run guests is refused at once with 125 and one line saying
# what to do, and tests/with-kvm chooses the test bed for both. TAP output.
# Usage: kvm-host.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../harness/tap.sh"
work=$(mktemp -d /tmp/clearvm-kvm-host.XXXXXX)
trap 'rm -rf "$work"' EXIT

run_true() { # runs /bin/true in clearvm: its status, with stderr in $work/err
	"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--no-template --rootfs "$build/rootfs" -- /bin/true 2> "$work/err"
}
# refused KIND PATTERN: the run exits 125 with one line matching PATTERN, before any VM.
refused() {
	run_true; local rc=$?
	check "$1: a run exits 125 (got $rc)" test $rc = 125
	check "$1: with one line saying what to do: $(head -c 200 "$work/err")" \
		one_line "$2"
}
# one_line TEXT: stderr ($work/err) is one line, holding TEXT.
one_line() { [ "$(wc -l < "$work/err")" = 1 ] && grep -qF -- "$1" "$work/err"; }
# kind_is ANSWER WORD [STATUS WANT]: ANSWER starts with WORD (and STATUS is WANT).
kind_is() { [[ "$1" == "$2"* ]] && [ "${3:-x}" = "${4:-x}" ]; }
missing_msg='this host has no KVM (enable virtualization in the firmware and load kvm_intel or kvm_amd)'
software_msg="kvm_pvm, a software KVM) cannot run a guest's user space"

# This host, as it is.
kind=$("$build/clearvm" --check-kvm); rc=$?
echo "# this host: $kind; with-kvm: $("$here/../with-kvm" --which)"
case "$kind" in
missing:*) refused "this host (no /dev/kvm)" "$missing_msg" ;;
software:*) refused "this host (kvm_pvm)" "$software_msg" ;;
hardware:*) check "this host: --check-kvm says hardware and exits 0 (got $rc)" test $rc = 0 ;;
*) check "this host: --check-kvm names the kind (got '$kind')" false ;;
esac
case "$kind" in
hardware:*) check "this host: with-kvm runs directly" sh -c "'$here/../with-kvm' --which | grep -q ^direct" ;;
*) check "this host: with-kvm chooses the test bed" sh -c "'$here/../with-kvm' --which | grep -q ^testbed" ;;
esac

if [ "$(id -u)" != 0 ] || ! unshare -m true 2> /dev/null; then
	skip "a missing and a software /dev/kvm" "needs root for a private mount namespace"
	tap_done
	exit
fi
# unshare_run MODULE KVM CMD...: CMD in a private mount namespace where /dev is a tmpfs holding
# null (and kvm, a character device, when KVM is not empty) and /sys/module a tmpfs holding
# MODULE (or nothing).
unshare_run() {
	MODULE=$1 KVM=$2 unshare -m sh -c '
		set -e
		mount --make-rprivate /
		mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3
		if [ -n "$KVM" ]; then mknod -m 666 /dev/kvm c 1 3; fi
		mount -t tmpfs none /sys/module
		if [ -n "$MODULE" ]; then mkdir /sys/module/kvm "/sys/module/$MODULE"; fi
		exec "$@"' unshare_run "${@:3}" < /dev/null
}

# No /dev/kvm, though kvm_pvm is loaded (the machines this was first seen on).
out=$(unshare_run kvm_pvm "" "$build/clearvm" --check-kvm); rc=$?
check "no /dev/kvm, kvm_pvm loaded: --check-kvm says missing, exit 125 (got '$out', $rc)" \
	kind_is "$out" missing "$rc" 125
out=$(unshare_run "" "" "$build/clearvm" --check-kvm)
check "no /dev/kvm, no module: missing too (got '$out')" kind_is "$out" missing
unshare_run kvm_pvm "" "$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
	--no-template --rootfs "$build/rootfs" -- /bin/true 2> "$work/err"; rc=$?
check "no /dev/kvm: a run exits 125 (got $rc)" test $rc = 125
check "no /dev/kvm: one line saying what to do ($(head -c 200 "$work/err"))" \
	one_line "$missing_msg"
out=$(unshare_run kvm_pvm "" "$here/../with-kvm" --which)
check "no /dev/kvm: with-kvm chooses the test bed ($out)" kind_is "$out" testbed

# A /dev/kvm while kvm_pvm is loaded: the software KVM.
out=$(unshare_run kvm_pvm yes "$build/clearvm" --check-kvm); rc=$?
check "/dev/kvm with kvm_pvm: --check-kvm says software, exit 125 (got '$out', $rc)" \
	kind_is "$out" software "$rc" 125
unshare_run kvm_pvm yes "$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
	--no-template --rootfs "$build/rootfs" -- /bin/true 2> "$work/err"; rc=$?
check "/dev/kvm with kvm_pvm: a run exits 125 (got $rc)" test $rc = 125
check "/dev/kvm with kvm_pvm: one line saying why ($(head -c 200 "$work/err"))" \
	one_line "$software_msg"
out=$(unshare_run kvm_pvm yes "$here/../with-kvm" --which)
check "/dev/kvm with kvm_pvm: with-kvm chooses the test bed ($out)" kind_is "$out" testbed

# A /dev/kvm with no kvm_pvm: a hardware KVM as far as the choice goes (the device here is
# /dev/null, so only the choice is checked, not a run).
out=$(unshare_run kvm_amd yes "$build/clearvm" --check-kvm); rc=$?
check "/dev/kvm with kvm_amd: --check-kvm says hardware, exit 0 (got '$out', $rc)" \
	kind_is "$out" hardware "$rc" 0
out=$(unshare_run kvm_amd yes "$here/../with-kvm" --which)
check "/dev/kvm with kvm_amd: with-kvm runs directly ($out)" kind_is "$out" direct
tap_done
