# SPDX-License-Identifier: Apache-2.0
# Signals and deadlines: forwarded signals, the stop timeout, a reader that stops reading, a
# host clock set forward, and a failed I/O loop.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# Signals sent to clearvm reach the workload; one that ignores SIGTERM is killed after the grace.
C=("$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 120 --rootfs "$root")
"${C[@]}" -- /bin/sh -c 'trap "echo got-term; exit 3" TERM; echo ready; sleep 100 & wait' > "$work/out" &
pid=$!
wait_until 60 grep -q ready "$work/out"
kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM to clearvm reaches the workload's handler (exit 3, got $rc)" test $rc = 3
check "which ran" grep -q got-term "$work/out"
"${C[@]}" --stop-timeout 1 -- /bin/sh -c 'trap "" TERM; echo ready; sleep 100' > "$work/out" 2> "$work/err" &
pid=$!
wait_until 60 grep -q ready "$work/out"
kill -TERM $pid; wait $pid; rc=$?
check "a workload ignoring SIGTERM is killed after --stop-timeout (137, got $rc)" test $rc = 137
"${C[@]}" -- /bin/sh -c 'echo ready; sleep 100' > "$work/out" &
pid=$!
wait_until 60 grep -q ready "$work/out"
kill -INT $pid; wait $pid; rc=$?
check "SIGINT ends a default workload as signal 2 (130, got $rc)" test $rc = 130

# A reader that stops reading: a workload writing forever into a pipe nobody reads must not
# hang clearvm. --timeout ends it with 125; SIGTERM ends it too (the guest cannot take the
# signal while its output waits, so it is killed after --stop-timeout and then stopped).
# The FIFO on a local file system (the test bed's /tmp is the host's over 9p: no FIFOs there).
stall=$(mktemp -u /dev/shm/clearvm-stall.XXXXXX)
mkfifo "$stall"
check "(the stalled reader's pipe is a FIFO)" test -p "$stall"
exec 8<> "$stall" # holds the pipe open, never reads it
flood='echo started >&2; while :; do echo "a line that nobody will ever read"; done'
start=$SECONDS
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 10 \
	${CLEARVM_TEST_COLD:+--no-template} --rootfs "$root" -- /bin/sh -c "$flood" > "$stall" 2> "$work/err"; rc=$?
check "(the flooding workload ran)" grep -q started "$work/err"
check "a stalled stdout reader: --timeout still ends the run with 125 (got $rc, $((SECONDS - start)) s)" \
	test $rc = 125 -a $((SECONDS - start)) -le 60
check "and says why" grep -q 'timeout' "$work/err"
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 300 --stop-timeout 1 \
	${CLEARVM_TEST_COLD:+--no-template} --rootfs "$root" -- /bin/sh -c "$flood" > "$stall" 2> "$work/err" &
pid=$!
check "(the flooding workload runs)" wait_until 100 grep -q started "$work/err"
start=$SECONDS
kill -TERM $pid; wait $pid; rc=$?
check "a stalled stdout reader: SIGTERM still ends the run (137 or 143, got $rc) within 30 s (took $((SECONDS - start)) s)" \
	test \( $rc = 137 -o $rc = 143 \) -a $((SECONDS - start)) -le 30
exec 8<&-
rm -f "$stall"

# The host's clock is set forward an hour while a run waits: --timeout counts on the monotonic
# clock, so the run goes on to its own end (only in the test bed, whose clock is its own).
if [ -n "${CLEARVM_IN_TESTBED:-}" ]; then
	rm -f "$work/go"
	cvm --rootfs "$root" --timeout 60 -v "$work:/w" -- /bin/sh -c \
		'echo ready; until [ -e /w/go ]; do sleep 0.1; done; exit 4' > "$work/out" 2> "$work/err" &
	pid=$!
	wait_until 100 grep -q ready "$work/out"
	date -s '+1 hour' > /dev/null
	touch "$work/go"
	wait $pid; rc=$?
	date -s '-1 hour' > /dev/null
	check "setting the clock forward does not end a run's --timeout (its own 4, got $rc)" test $rc = 4
else
	skip "setting the clock forward does not end a run's --timeout" "changes the clock: only in the test bed"
fi

# The I/O thread's loop failing stops the VM with a message (a hidden test hook breaks its ring).
CLEARVM_TEST_IO_FAILURE=wait cvm --rootfs "$root" -- /bin/sh -c 'exec sleep 100' 2> "$work/err"; rc=$?
check "a failed I/O loop stops the run with 125 (got $rc)" test $rc = 125
check "and one line saying so ($(head -c 120 "$work/err"))" grep -q 'I/O thread: io_uring wait: Bad file descriptor' "$work/err"
