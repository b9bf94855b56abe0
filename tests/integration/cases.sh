#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# clearvm end to end: real VMs with the project's kernel, run where tests/with-kvm decided
# (this script runs inside the test bed on hosts whose KVM needs it). TAP output.
# Runs each group in cases/ in order, in this one shell (so all share one test-bed boot and one
# TAP stream), each on its own fresh copy of the test rootfs and its own work directory: no
# group sees what another wrote.
# Usage: cases.sh BUILD_DIR [GROUP...]   (GROUP: a name in cases/ such as 30-files; default all)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
shift
source "$here/../harness/tap.sh"

scratch=$(mktemp -d "${CLEARVM_TEST_TMPDIR:-${TMPDIR:-/tmp}}/clearvm-it.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# CLEARVM_TEST_COLD=1 (meson's vm-cold): every case boots cold; else from templates, built
# by the first case in the directory run.sh chose (CLEARVM_TEMPLATE_DIR).
cvm() {
	"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 120 \
		${CLEARVM_TEST_COLD:+--no-template} "$@"
}

groups=("$@")
if [ ${#groups[@]} = 0 ]; then
	for f in "$here"/cases/[0-9]*.sh; do groups+=("$(basename "$f" .sh)"); done
fi
for group in "${groups[@]}"; do
	echo "# group $group"
	work=$scratch/$group
	root=$work/root
	mkdir -p "$work" || exit 1
	# run.sh made the copy on the host when it could (inside the test bed, one takes seconds).
	premade=${CLEARVM_TEST_TMPDIR:-/nonexistent}/root.$group
	if [ -d "$premade" ]; then mv "$premade" "$root"; else cp -a "$build/rootfs" "$root"; fi || exit 1
	source "$here/cases/$group.sh"
	rm -rf "$work"
done
check "(the cases ran: ${#groups[@]} groups)" test ${#groups[@]} -gt 0
tap_done
