#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs a script of integration cases (default: cases.sh) where a KVM can run them:
# tests/with-kvm decides. TAP output.
# When the test bed itself fails (exit 240: it froze, which tests/testbed/run notices within a
# minute, or it timed out), the run is repeated, at most three times, and says so; a failing
# check never is.
# Usage: run.sh BUILD_DIR [CASES_SCRIPT [GROUP...]]   (groups: cases.sh's, default all)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
cases=$(realpath "${2:-$here/cases.sh}")
groups=("${@:3}")
out=$(mktemp)
# Templates go to a fresh directory on a tmpfs (inside the test bed: its own /dev/shm).
export CLEARVM_TEMPLATE_DIR=/dev/shm/clearvm-test-templates.$$
# The cases' work directories go under one scratch directory in /tmp (which the test bed shares
# with the host), emptied after every attempt: a test bed that froze never ran their own cleanup.
export CLEARVM_TEST_TMPDIR
CLEARVM_TEST_TMPDIR=$(mktemp -d /tmp/clearvm-scratch.XXXXXX) && chmod 755 "$CLEARVM_TEST_TMPDIR" || exit 1
trap 'rm -f "$out"; rm -rf "$CLEARVM_TEMPLATE_DIR" "$CLEARVM_TEST_TMPDIR"' EXIT
for attempt in 1 2 3 4; do
	# Each group of cases.sh starts on a fresh copy of the test rootfs: made here, on the host, a
	# copy takes milliseconds (over the test bed's share, seconds).
	if [ "$cases" = "$here/cases.sh" ]; then
		for g in "$here"/cases/[0-9]*.sh; do
			cp -a "$build/rootfs" "$CLEARVM_TEST_TMPDIR/root.$(basename "$g" .sh)"
		done
	fi
	# Each attempt gets its own limit, so three fit in meson's timeout.
	"$here/../with-kvm" --memory 2048 --timeout 480 --env CLEARVM_TEMPLATE_DIR --env CLEARVM_TEST_COLD \
		--env CLEARVM_TEST_TMPDIR -- "$cases" "$build" "${groups[@]+"${groups[@]}"}" > "$out"
	rc=$?
	find "$CLEARVM_TEST_TMPDIR" -mindepth 1 -delete
	[ $rc = 240 ] && [ $attempt != 4 ] || break
	echo "# the test bed failed (see stderr); running the cases again"
done
# What is not TAP (a background process's stray output, a check's description broken over lines)
# stays in the log as a comment, never taken for a result.
sed -E '/^(ok |not ok |1\.\.[0-9]|#)/!s/^/# (not TAP) /' "$out"
exit $rc
