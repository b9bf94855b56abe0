#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# clearvm -it as a person uses it: an interactive shell in a tmux pane, typed at, resized,
# interrupted with Ctrl-C, and left with `exit`; the host terminal must come back as it was.
# Runs where tests/with-kvm decided. TAP output. Usage: tty.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
source "$(dirname "$0")/../harness/tap.sh"

work=$(mktemp -d "${CLEARVM_TEST_TMPDIR:-${TMPDIR:-/tmp}}/clearvm-tty.XXXXXX")
# tmux's socket on a tmpfs: /tmp may be a file system without sockets (9p in the test bed).
sock=$(mktemp -u /dev/shm/clearvm-tty.XXXXXX)
tmx() { tmux -S "$sock" "$@"; }
trap 'tmx kill-server 2>/dev/null; rm -rf "$work" "$sock"' EXIT
root=$work/root
cp -a "$build/rootfs" "$root"

# Waits until the pane shows a line matching $1 (an extended regex); fails after 60 s.
pane() { tmx capture-pane -p -J -S - -t cvm; }
wait_for() {
	for _ in $(seq 300); do
		tmx has-session -t cvm 2>/dev/null || { echo "# the tmux session is gone"; return 1; }
		pane | grep -Eq -- "$1" && return 0
		sleep 0.2
	done
	echo "# pane never showed /$1/; it shows:" && pane | sed 's/^/#   /'
	return 1
}
type_line() { tmx send-keys -t cvm -l -- "$1" && tmx send-keys -t cvm Enter; }

cvm="$build/clearvm --kernel $build/vmlinux --initramfs $build/initramfs.cpio --timeout 300 ${CLEARVM_TEST_COLD:+--no-template}"
export TERM=xterm-256color
tmx new-session -d -s cvm -x 100 -y 30 "stty -g > $work/before; $cvm -it -u 1000:1000 --rootfs $root -- /bin/sh; \
	echo \$? > $work/rc; stty -g > $work/after; echo host-shell-back; sleep 600"
wait_for '^/ \$ '
type_line 'tty; test -t 0 && test -t 1 && test -t 2 && echo "all-ttys"'
check "stdin, stdout and stderr are a terminal" wait_for '^all-ttys'
check "the shell's terminal is a pty" wait_for '^/dev/pts/[0-9]+'
type_line 'stty size'
check "the window size is the host terminal's (30 100)" wait_for '^30 100$'
tmx resize-window -t cvm -x 120 -y 40
# The resize reaches the guest some time after tmux makes it: ask again until it shows.
resized() {
	for i in $(seq 20); do
		type_line "echo size-$i=\$(stty size)"
		wait_for "^size-$i=" > /dev/null || return 1
		pane | grep -q "^size-$i=40 120\$" && return 0
	done
	return 1
}
check "a resize of the host terminal reaches the guest (40 120)" resized
# Ctrl-C once the foreground command has said it runs (its shell execs sleep).
type_line "sh -c 'echo sleeping-now; exec sleep 100'"
wait_for '^sleeping-now' > /dev/null
tmx send-keys -t cvm C-c
type_line 'echo "after-sleep=$?"'
check "Ctrl-C interrupts the foreground command with SIGINT (130)" wait_for '^after-sleep=130'
type_line 'echo "user=$(id -u)" "owner=$(stat -c %u "$(tty)")"'
check "the pty belongs to the workload's user" wait_for '^user=1000 owner=1000'
type_line 'exit 7'
check "clearvm came back to the host shell" wait_for '^host-shell-back'
check "exit 7 in the shell is clearvm's status (got $(cat "$work/rc" 2>/dev/null))" test "$(cat "$work/rc" 2>/dev/null)" = 7
check "the host terminal's modes are restored exactly" cmp -s "$work/before" "$work/after"

# podman run -it with clearvm as its runtime, as a person types at it: conmon's console socket,
# clearvm's pty master sent over it, a resize through podman, Ctrl-C, exit. Once (warm).
if [ -z "${CLEARVM_TEST_COLD:-}" ] && command -v podman > /dev/null; then
	here=$(cd "$(dirname "$0")" && pwd)
	source "$here/podman-env.sh" "$root"
	{ echo '#!/usr/bin/env bash'; declare -p local_tmp P
	  echo 'exec "${local_tmp[@]}" "${P[@]}" run -it --rm --network none clearvm-test /bin/sh'; } > "$work/podman-it"
	tmx kill-session -t cvm
	tmx new-session -d -s cvm -x 100 -y 30 "stty -g > $work/before; bash $work/podman-it; echo \$? > $work/rc; \
		stty -g > $work/after; echo host-shell-back; sleep 600"
	wait_for '^/ # '
	type_line 'tty; test -t 0 && test -t 1 && echo "podman-ttys"'
	check "podman run -it: a terminal in the guest" wait_for '^podman-ttys'
	type_line 'stty size'
	check "podman run -it: the host terminal's size (30 100)" wait_for '^30 100$'
	tmx resize-window -t cvm -x 120 -y 40
	check "podman run -it: a resize reaches the guest (40 120)" resized
	type_line "sh -c 'echo sleeping-now; exec sleep 100'"
	wait_for '^sleeping-now' > /dev/null
	tmx send-keys -t cvm C-c
	type_line 'echo "after-sleep=$?"'
	check "podman run -it: Ctrl-C interrupts the foreground command (130)" wait_for '^after-sleep=130'
	type_line 'exit 7'
	check "podman run -it: back to the host shell" wait_for '^host-shell-back'
	check "podman run -it: exit 7 is podman's status (got $(cat "$work/rc" 2>/dev/null))" test "$(cat "$work/rc" 2>/dev/null)" = 7
	check "podman run -it: the host terminal's modes restored" cmp -s "$work/before" "$work/after"
	rm -rf "$pm"
fi
tap_done
