#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test bed is honest: on the host's software KVM the SYSCALL probe fails; inside the test
# bed it passes; CMD's exit status, stdout and stderr come back separate; files written inside
# are on the host; a test bed failure has its own status. TAP output.
# Usage: selftest.sh PATH-TO-syscall-probe PATH-TO-clearvm
set -uo pipefail
probe=$1
clearvm=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../harness/tap.sh"

work=$(mktemp -d /tmp/testbed-selftest.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# What the host's own KVM does with the probe, by what clearvm says it is.
"$probe" > host.out 2>&1
rc=$?
kind=$("$clearvm" --check-kvm)
case "$kind" in
software:*)
	check "the host's software KVM fails the SYSCALL probe (exit $rc)" test $rc = 1
	check "and says it cannot run guest user space" grep -q 'cannot run guest user space' host.out ;;
missing:*)
	check "the host has no /dev/kvm: the probe cannot open it (exit $rc)" test $rc = 2
	check "and says so" grep -q '/dev/kvm: No such file or directory' host.out ;;
hardware:*)
	check "the host's hardware KVM passes the SYSCALL probe (exit $rc)" test $rc = 0 ;;
*)
	check "clearvm --check-kvm names the host's KVM (got '$kind')" false ;;
esac

"$here/run" -- sh -c "$probe; echo out-line; echo err-line >&2; echo written-inside > file; exit 7" > out 2> err
rc=$?
check "test bed: the probe passes (SYSCALL reaches CPL0)" grep -q 'CS=0x8 (CPL0)' out
check "test bed: the command's exit status comes back (7, got $rc)" test $rc = 7
check "test bed: stdout carries stdout only" grep -qx 'out-line' out
check "test bed: stdout has no stderr line" bash -c '! grep -q err-line out'
check "test bed: stderr carries stderr only" grep -qx 'err-line' err
check "test bed: a file written inside is on the host" grep -qx 'written-inside' file

"$here/run" -- sh -c 'exit 240' 2> err240
rc=$?
check "test bed: a command's own 240 has no test bed message" bash -c "test $rc = 240 && ! grep -q '^testbed:' err240"

"$here/run" --timeout 2 -- sleep 100 2> errto
rc=$?
check "test bed: its own failure exits 240 (got $rc)" test $rc = 240
check "test bed: and says why in one line" grep -q '^testbed: timed out' errto

tap_done
