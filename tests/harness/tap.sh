# SPDX-License-Identifier: Apache-2.0
# TAP for the shell tests: `check DESCRIPTION COMMAND...` prints ok/not ok (and a timestamped
# progress line on stderr); `tap_done` prints the plan and fails when any check did.
tap_n=0 tap_failed=0
check() {
	local desc=$1
	shift
	tap_n=$((tap_n + 1))
	if "$@"; then echo "ok $tap_n - $desc"; else echo "not ok $tap_n - $desc"; tap_failed=$((tap_failed + 1)); fi
	echo "# $(date +%T) $desc" >&2
}
skip() { # skip DESCRIPTION REASON
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}
tap_done() {
	echo "1..$tap_n"
	[ $tap_failed = 0 ]
}
# wait_until SECONDS COMMAND...: until COMMAND succeeds (asked every 0.1 s); fails after SECONDS.
# For a condition the subject makes true (a line it printed, a file it wrote), never for time.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}
