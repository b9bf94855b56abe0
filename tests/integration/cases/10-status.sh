# SPDX-License-Identifier: Apache-2.0
# The workload's exit status, exactly, in every class; clearvm's own failures: 125 and one
# line, never a hang.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# The issue's example: separate streams and the exact status.
cvm --rootfs "$root" -- /bin/sh -c 'echo out; echo err >&2; exit 42' > "$work/out" 2> "$work/err"
rc=$?
check "exit status 42 comes back exactly (got $rc)" test $rc = 42
check "stdout is exactly 'out'" test "$(cat "$work/out")" = out
check "stderr is exactly 'err'" test "$(cat "$work/err")" = err

# Every status class in one boot is impossible (one workload per VM): a few boots.
cvm --rootfs "$root" -- /bin/true; rc=$?
check "true exits 0 (got $rc)" test $rc = 0
cvm --rootfs "$root" -- /bin/sh -c 'exit 255'; rc=$?
check "exit 255 (got $rc)" test $rc = 255
cvm --rootfs "$root" -- /bin/sh -c 'kill -TERM $$'; rc=$?
check "death by SIGTERM is 128+15 (got $rc)" test $rc = 143
cvm --rootfs "$root" -- /no/such/command 2> "$work/err"; rc=$?
check "a command not in the rootfs is 127 (got $rc)" test $rc = 127
check "with a one-line reason" grep -q 'No such file or directory' "$work/err"
cvm --rootfs "$root" -- /etc/passwd 2> "$work/err"; rc=$?
check "a file that is not executable is 126 (got $rc)" test $rc = 126

# clearvm's own failures: 125 and one line, never a hang.
cvm --rootfs "$root" --timeout 2 -- /bin/sleep 100 2> "$work/err"; rc=$?
check "--timeout stops a workload that runs too long with 125 (got $rc)" test $rc = 125
check "and says so" grep -q 'timeout' "$work/err"
"$build/clearvm" --kernel "$build/initramfs.cpio" --initramfs "$build/initramfs.cpio" --rootfs "$root" -- /bin/true 2> "$work/err"; rc=$?
check "a file that is not a kernel is 125 (got $rc)" test $rc = 125
check "with one line naming the kernel" test "$(wc -l < "$work/err")" = 1 -a -n "$(grep 'kernel' "$work/err")"
cvm --rootfs "$work/nonexistent" -- /bin/true 2> "$work/err"; rc=$?
check "a missing rootfs is 125 (got $rc)" test $rc = 125
cvm --rootfs "$root" --memory 999999999 -- /bin/true 2> "$work/err"; rc=$?
check "too much memory is 125 (got $rc)" test $rc = 125
cvm --rootfs "$root" -t -- /bin/true > "$work/out" 2> "$work/err"; rc=$?
check "-t with output to a file is 125 before any VM (got $rc)" test $rc = 125
check "with one line saying why" test "$(wc -l < "$work/err")" = 1 -a -n "$(grep 'not a terminal' "$work/err")"
