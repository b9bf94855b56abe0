#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a script of integration cases (default: cases.sh) where a KVM can run them:
# tests/with-kvm decides. TAP output.
# When the test bed itself fails (exit 240), the run is repeated, at most twice, and says so;
# a failing check never is.
# Usage: run.sh BUILD_DIR [CASES_SCRIPT]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
cases=$(realpath "${2:-$here/cases.sh}")
out=$(mktemp)
# Templates go to a fresh directory on a tmpfs (inside the test bed: its own /dev/shm).
export CLEARVM_TEMPLATE_DIR=/dev/shm/clearvm-test-templates.$$
trap 'rm -f "$out"; rm -rf "$CLEARVM_TEMPLATE_DIR"' EXIT
for attempt in 1 2 3; do
	# Each attempt gets its own limit, so three fit in meson's timeout.
	"$here/../with-kvm" --memory 2048 --timeout 480 --env CLEARVM_TEMPLATE_DIR --env CLEARVM_TEST_COLD \
		-- "$cases" "$build" > "$out"
	rc=$?
	[ $rc = 240 ] && [ $attempt != 3 ] || break
	echo "# the test bed failed (see stderr); running the cases again"
done
cat "$out"
exit $rc
