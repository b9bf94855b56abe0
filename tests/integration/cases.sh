#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# clearvm end to end: real VMs with the project's kernel, run where tests/with-kvm decided
# (this script runs inside the test bed on hosts whose KVM needs it). TAP output.
# Usage: cases.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
source "$(dirname "$0")/../harness/tap.sh"

work=$(mktemp -d "${CLEARVM_TEST_TMPDIR:-${TMPDIR:-/tmp}}/clearvm-it.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
cp -a "$build/rootfs" "$root"
# CLEARVM_TEST_COLD=1 (meson's vm-cold): every case boots cold; else from templates, built
# by the first case in the directory run.sh chose (CLEARVM_TEMPLATE_DIR).
cvm() {
	"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 120 \
		${CLEARVM_TEST_COLD:+--no-template} "$@"
}

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

# Binary-exact output, 1 MiB and more, on both streams.
head -c 1536000 /dev/urandom > "$root/blob"
cvm --rootfs "$root" -- /bin/sh -c 'cat /blob; cat /blob >&2' > "$work/out" 2> "$work/err"; rc=$?
check "binary output run exits 0 (got $rc)" test $rc = 0
check "1.5 MiB of random bytes on stdout arrive exactly" cmp -s "$root/blob" "$work/out"
check "and on stderr too" cmp -s "$root/blob" "$work/err"

# argv and environment of any length and bytes, never through the kernel command line.
long=$(head -c 120000 /dev/zero | tr '\0' x)
cvm --rootfs "$root" -e 'GREETING=hello  world' -- /bin/sh -c 'printf "%s|%s|%s" "${#1}" "$2" "$GREETING"' sh "$long" 'a b*"c' > "$work/out"
check "a 120000-byte argument, spaces and quotes, and -e arrive intact" test "$(cat "$work/out")" = '120000|a b*"c|hello  world'

# Files: what the workload writes is on the host; the usual tools work over 9p.
cvm --rootfs "$root" -w /tmp -- /bin/sh -c '
	set -e
	mkdir -p /work/a/b && pwd > /work/cwd-was && cd /work
	echo data > a/b/file && cp a/b/file copy && mv copy moved && ln -s moved link
	ln moved hard && chmod 0640 moved && rm -r a && mkdir gone && rmdir gone
	ls -l /work > /work/listing && cat link > /work/through-link' 2> "$work/err"
rc=$?
check "mkdir, cp, mv, ln -s, ln, chmod, rm, ls -l succeed in the guest (got $rc)" test $rc = 0
check "a written file is on the host" test "$(cat "$root/work/moved" 2>/dev/null)" = data
check "a symlink made in the guest is a symlink on the host" test "$(readlink "$root/work/link")" = moved
check "a hard link made in the guest shares the inode" test "$(stat -c %i "$root/work/moved")" = "$(stat -c %i "$root/work/hard" 2>/dev/null)"
check "chmod reached the host" test "$(stat -c %a "$root/work/moved")" = 640
check "rm -r removed the directory" test ! -e "$root/work/a"
check "ls -l saw the files" grep -q ' moved$' "$root/work/listing"
check "--workdir sets the working directory" test "$(cat "$root/work/cwd-was")" = /tmp

# Confinement: symlinks in the rootfs resolve inside it, never on the host.
echo host-secret > "$work/outside"
echo guest-shadow > "$root/etc/shadow"
ln -s /etc/shadow "$root/shadowlink"
ln -s ../../.. "$root/up"
ln -s ../outside "$root/escape"
cvm --rootfs "$root" -- /bin/sh -c 'cat /shadowlink; cat /up/etc/shadow; cat /escape; cat /up/../outside; ls /up/' > "$work/out" 2>&1
check "a link to /etc/shadow reads the rootfs's own file" test "$(grep -c guest-shadow "$work/out")" = 2
check "no link reaches a host file outside the rootfs" test -z "$(grep host-secret "$work/out")"
check "../../.. resolves to the rootfs's root" grep -q '^shadowlink$' "$work/out"
# A magic link written on the host (/proc/1/root is the host's root there) is only a name in
# the guest, resolved in the guest's own /proc; a hard link the guest makes to a symlink that
# points out is that symlink again, never the host file it names.
ln -s "/proc/1/root$work/outside" "$root/magic"
cvm --rootfs "$root" -- /bin/sh -c 'cat /magic; ln /escape /hardesc && cat /hardesc; ln /magic /hardmagic; cat /hardmagic' \
	> "$work/out" 2>&1
check "a /proc/1/root magic link or a hard link of a link out never reads the host file" \
	test -z "$(grep host-secret "$work/out")"
check "the hard links are symlinks in the rootfs, not links to the host file" \
	test -L "$root/hardesc" -a -L "$root/hardmagic" -a "$(stat -c %h "$work/outside")" = 1
rm -f "$root/magic" "$root/hardesc" "$root/hardmagic"

# Nothing is written into the rootfs that the workload did not write (a run that only reads
# it; the stamp's time has nanoseconds, and a boot takes far longer than a clock tick).
touch "$work/stamp"
out=$(cvm --rootfs "$root" -- /bin/sh -c 'cat /etc/hostname; ls /bin > /dev/null && echo listed'); rc=$?
check "(the VM ran and read the rootfs: $rc, $(echo $out))" test "$rc/$(echo $out)" = "0/clearvm listed"
check "a run that reads the rootfs leaves it untouched" test -z "$(find "$root" -newer "$work/stamp" | head -1)"

# SMP really boots every vCPU.
out=$(cvm --rootfs "$root" --cpus 2 -- /bin/sh -c 'grep -c ^processor /proc/cpuinfo')
check "--cpus 2 gives the guest 2 online CPUs (got $out)" test "$out" = 2
out=$(cvm --rootfs "$root" --memory 128 -- /bin/sh -c "awk '/MemTotal/{print \$2}' /proc/meminfo")
check "--memory 128 gives the guest about 128 MiB (got ${out} KiB)" test "${out:-0}" -gt 100000 -a "${out:-0}" -le 131072

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

# Identity: --user from the rootfs's passwd and group files, permissions as on the host.
echo 'u1:x:1000:1000:User One:/home/u1:/bin/sh' >> "$root/etc/passwd"
printf 'g1:x:1000:\nextra:x:2000:u1\n' >> "$root/etc/group"
mkdir -p "$root/home/u1" && chown 1000:1000 "$root/home/u1" && chmod 700 "$root/root"
cvm --rootfs "$root" -u u1 -- /bin/sh -c 'id -u; id -g; id -G; echo $HOME; touch /home/u1/mine; touch /root/no 2>/dev/null; echo $?' > "$work/out"
check "-u u1: uid, gid, groups and HOME from the rootfs" test "$(head -4 "$work/out" | tr '\n' ' ')" = "1000 1000 1000 2000 /home/u1 "
check "a file it makes is its own on the host" test "$(stat -c %u:%g "$root/home/u1/mine" 2>/dev/null)" = 1000:1000
check "it cannot write where its user may not" test "$(tail -1 "$work/out")" = 1 -a ! -e "$root/root/no"
cvm --rootfs "$root" -u nosuch -- /bin/true 2> "$work/err"; rc=$?
check "an unknown user is 125 before any VM (got $rc)" test $rc = 125

# Run by a user other than root, clearvm maps the guest's root to that user, as rootless
# containers do: files it owns look like root's inside, and what root makes there is its own.
[ -n "${CLEARVM_IN_TESTBED:-}" ] && chmod 0666 /dev/kvm # only on the test bed's throwaway /dev
as_user=(setpriv --reuid=4321 --regid=4321 --clear-groups)
if [ "$(id -u)" = 0 ] && "${as_user[@]}" test -w /dev/kvm 2>/dev/null; then
	udir=$(mktemp -d "${CLEARVM_TEST_TMPDIR:-${TMPDIR:-/tmp}}/clearvm-user.XXXXXX") && chmod 755 "$udir"
	cp -a "$build/rootfs" "$udir/root" && chown -R 4321:4321 "$udir/root"
	# clearvm and its guest files beside it: the checkout may sit where that user cannot go
	# (a clone in a 0700 directory).
	cp -L "$build/clearvm" "$build/vmlinux" "$build/initramfs.cpio" "$udir/"
	out=$("${as_user[@]}" "$udir/clearvm" --kernel "$udir/vmlinux" --initramfs "$udir/initramfs.cpio" \
		--timeout 120 --rootfs "$udir/root" -- /bin/sh -c 'id -u; stat -c "%u %g" /etc/passwd; touch /made;
		stat -c "%u %g" /made; chown 0:0 /made && echo chown-root-ok; chown 5:5 /made 2>/dev/null || echo chown-other-refused' 2>&1)
	check "the guest runs as root (uid 0)" test "$(sed -n 1p <<< "$out")" = 0
	check "the invoking user's files are root's inside" test "$(sed -n 2p <<< "$out")" = "0 0"
	check "a file root makes is root's inside" test "$(sed -n 3p <<< "$out")" = "0 0"
	check "and the invoking user's on the host" test "$(stat -c %u:%g "$udir/root/made" 2>/dev/null)" = 4321:4321
	check "chown to root inside works, chown to another user is refused" \
		test "$(sed -n '4,5p' <<< "$out" | tr '\n' ' ')" = "chown-root-ok chown-other-refused "
	rm -rf "$udir"
else
	skip "the guest's root maps to a non-root invoking user" "no unprivileged user can open /dev/kvm here"
fi

# Extended attributes: user.* ones behave as on the host file system underneath; the other
# namespaces (host security state) are refused.
cp "$build/tests/fsprobe" "$root/bin/fsprobe"
"$build/tests/fsprobe" xattr "$work/xattr-host" > "$work/xattr.host"
cvm --rootfs "$root" -- /bin/sh -c 'fsprobe xattr /xattr-guest; fsprobe xattr-other /xattr-guest' > "$work/out"
head -n "$(wc -l < "$work/xattr.host")" "$work/out" > "$work/xattr.guest"
check "user.* xattrs through clearvm behave exactly as on the host" cmp -s "$work/xattr.host" "$work/xattr.guest"
check "trusted.* and security.* cannot be set from the guest" \
	test "$(tail -2 "$work/out" | tr '\n' '|')" = "set trusted.clearvm: Operation not supported|set security.clearvm: Operation not supported|"
check "and nothing reached the host file" test "$("$build/tests/fsprobe" xattr-names "$root/xattr-guest")" = "names:"

# Hostname, volumes, read-only.
mkdir -p "$work/vol" && echo in-volume > "$work/vol/f"
ln -s ../outside "$work/vol/esc" # on the host this would be $work/outside: host-secret
echo one-file > "$work/one.conf"
out=$(cvm --rootfs "$root" --hostname web-1 -v "$work/vol:/data" -v "$work/vol:/ro:ro" \
	-v "$work/one.conf:/etc/one.conf" -v "$work/one.conf:/etc/one-ro.conf:ro" -- /bin/sh -c \
	'hostname; cat /etc/hostname; cat /data/f; echo from-guest > /data/g; echo x > /ro/h 2>/dev/null || echo ro-refused
	cat /data/esc /ro/esc /data/../outside 2>&1
	cat /etc/one.conf; echo file-from-guest >> /etc/one.conf; echo x >> /etc/one-ro.conf 2>/dev/null || echo file-ro-refused
	ls /etc/one.conf/.. >/dev/null 2>&1 || echo file-only')
check "--hostname sets the hostname and /etc/hostname" test "$(echo "$out" | head -2 | tr '\n' ' ')" = "web-1 web-1 "
check "the rootfs's own /etc/hostname is untouched" test "$(cat "$root/etc/hostname")" = clearvm
check "a volume is readable in the guest" grep -qx in-volume <<< "$out"
check "and writable back to the host" test "$(cat "$work/vol/g" 2>/dev/null)" = from-guest
check "a :ro volume refuses writes" grep -qx ro-refused <<< "$out"
check "and nothing reached the host" test ! -e "$work/vol/h"
check "a symlink in a volume pointing outside it never reaches the host file" test -z "$(grep host-secret <<< "$out")"
check "a file volume is read at its path" grep -qx one-file <<< "$out"
check "and written back to the host file" test "$(tail -1 "$work/one.conf")" = file-from-guest
check "a :ro file volume refuses writes" grep -qx file-ro-refused <<< "$out"
check "and a file volume is just that file (not a directory)" grep -qx file-only <<< "$out"
vols=()
for i in 1 2 3 4 5 6 7 8; do
	mkdir -p "$work/v$i" && echo "$i" > "$work/v$i/n" && vols+=(-v "$work/v$i:/v$i")
done
out=$(cvm --rootfs "$root" "${vols[@]}" -- /bin/sh -c 'cat /v1/n /v2/n /v3/n /v4/n /v5/n /v6/n /v7/n /v8/n')
check "8 volumes, the most there is, are all mounted" test "$(echo $out)" = "1 2 3 4 5 6 7 8"
out=$(cvm --rootfs "$root" --read-only -- /bin/sh -c '{ echo x > /newfile; } 2>&1; echo ok > /tmp/t && cat /tmp/t')
check "--read-only: the rootfs refuses writes with EROFS" grep -q 'Read-only file system' <<< "$out"
check "--read-only: nothing reached the host" test ! -e "$root/newfile"
check "--read-only: /tmp is still writable" grep -qx ok <<< "$out"

# stdin: -i passes it through, EOF included; without -i the workload's stdin is empty.
out=$(echo hi | cvm --rootfs "$root" -i -- /bin/cat); rc=$?
check "echo hi | clearvm -i -- cat prints hi and exits 0 (got $rc)" test "$out" = hi -a $rc = 0
head -c 1048576 /dev/urandom > "$work/in.bin"
cvm --rootfs "$root" -i -- /bin/cat < "$work/in.bin" > "$work/out"
check "1 MiB of random stdin comes back exactly" cmp -s "$work/in.bin" "$work/out"
out=$(echo hi | cvm --rootfs "$root" -- /bin/cat); rc=$?
check "without -i the workload reads EOF at once (got '$out', $rc)" test -z "$out" -a $rc = 0

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
mkfifo "$work/stall"
exec 8<> "$work/stall" # holds the pipe open, never reads it
flood='echo started >&2; while :; do echo "a line that nobody will ever read"; done'
start=$SECONDS
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 10 \
	${CLEARVM_TEST_COLD:+--no-template} --rootfs "$root" -- /bin/sh -c "$flood" > "$work/stall" 2> "$work/err"; rc=$?
check "(the flooding workload ran)" grep -q started "$work/err"
check "a stalled stdout reader: --timeout still ends the run with 125 (got $rc, $((SECONDS - start)) s)" \
	test $rc = 125 -a $((SECONDS - start)) -le 60
check "and says why" grep -q 'timeout' "$work/err"
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 300 --stop-timeout 1 \
	${CLEARVM_TEST_COLD:+--no-template} --rootfs "$root" -- /bin/sh -c "$flood" > "$work/stall" 2> "$work/err" &
pid=$!
check "(the flooding workload runs)" wait_until 100 grep -q started "$work/err"
start=$SECONDS
kill -TERM $pid; wait $pid; rc=$?
check "a stalled stdout reader: SIGTERM still ends the run (137 or 143, got $rc) within 30 s (took $((SECONDS - start)) s)" \
	test \( $rc = 137 -o $rc = 143 \) -a $((SECONDS - start)) -le 30
exec 8<&-
# Output that waits for a slow reader is all there once the run ends, in order.
cvm --rootfs "$root" -- /bin/sh -c 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done' \
	| { read -r first; sleep 2; echo "$first"; cat; } > "$work/slow"
check "a reader that is slow to start gets every line, in order" \
	test "$(wc -l < "$work/slow")/$(head -1 "$work/slow")/$(tail -1 "$work/slow")" = "20000/line 0/line 19999"

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

# An initramfs whose /init is the busybox script $2, in $work/$1.cpio: a guest that misbehaves.
make_initramfs() {
	mkdir -p "$work/$1/bin"
	cp /bin/busybox "$work/$1/bin/busybox"
	printf '#!/bin/busybox sh\n%s\n' "$2" > "$work/$1/init"
	chmod 755 "$work/$1/init"
	(cd "$work/$1" && find . | cpio -o -H newc --quiet) > "$work/$1.cpio"
}

# A guest that never runs the workload (its init hangs) still stops on SIGTERM, with 137; the
# signal is sent once its init has said (in the kernel log, which --console shows) that it is up.
make_initramfs hanginit '/bin/busybox mount -t devtmpfs dev /dev; echo hanging-init-is-up > /dev/kmsg
exec /bin/busybox sleep 1000'
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$work/hanginit.cpio" --timeout 120 \
	--stop-timeout 1 --console --rootfs "$root" -- /bin/true 2> "$work/err" &
pid=$!
check "(the hanging init came up)" wait_until 100 grep -q hanging-init-is-up "$work/err"
kill -TERM $pid; wait $pid; rc=$?
check "SIGTERM stops a guest whose init never answers: 137 (got $rc)" test $rc = 137
check "and says so" grep -q 'stopped it' "$work/err"

# A guest kernel that panics (here: its init exits) ends the run with 125, not a hang.
make_initramfs badinit 'exit 3'
"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$work/badinit.cpio" --timeout 120 \
	--rootfs "$root" -- /bin/true 2> "$work/err"; rc=$?
check "a guest kernel panic ends clearvm with 125 (got $rc)" test $rc = 125
check "and names what happened" grep -q 'panic' "$work/err"

# --boot-trace and --stats-json: every phase reached, in order, on one clock; exits counted.
cvm --rootfs "$root" --boot-trace --stats-json "$work/stats.json" -- /bin/sh -c 'exit 5' 2> "$work/err"; rc=$?
check "a traced run keeps the command's status (5, got $rc)" test $rc = 5
phases="start options_parsed vm_created kernel_loaded first_kvm_run guest_init root_mounted workload_exec workload_exited clearvm_exit"
times=$(for p in $phases; do sed -n "s/^ *\"$p\": *\([0-9.]*\),*$/\1/p" "$work/stats.json"; done)
check "--stats-json has a time for each of the 10 phases" test "$(echo "$times" | grep -c .)" = 10
check "and they are in order" test "$(echo "$times" | sort -g | tr '\n' ' ')" = "$(echo "$times" | tr '\n' ' ')"
mmio=$(sed -n 's/^ *"mmio": *\([0-9]*\),*$/\1/p' "$work/stats.json")
check "exits are counted (MMIO > 0, got $mmio)" test "${mmio:-0}" -gt 0
# The console's receive queues ask for no notify while nothing waits for a buffer: without
# that, posting them costs one MMIO exit each (about 1,700 in all instead of about 400).
check "a short run takes fewer than 800 MMIO exits (got $mmio)" test "${mmio:-0}" -lt 800
check "the status is recorded" grep -Eq '"status": *5' "$work/stats.json"

# Free page reporting: 160 MiB the workload touched and freed is handed back to the host (the
# guest reports free 4 MiB blocks 2 s after they are freed), so it is not resident at the end.
cvm --rootfs "$root" -m 512 --stats-json "$work/stats.json" -- \
	/bin/sh -c 'dd if=/dev/zero of=/dev/null bs=160M count=1 2>/dev/null; sleep 8'
pages=$(sed -n 's/^ *"guest_pages_touched": *\([0-9]*\),*$/\1/p' "$work/stats.json")
check "freed guest memory is given back: $((${pages:-0} / 256)) MiB resident at the end, under 100" \
	test "${pages:-999999}" -lt $((100 * 256))
check "and the guest reported it" grep -Eq '"guest_reported_bytes": *[1-9]' "$work/stats.json"
check "--boot-trace prints the table on stderr" grep -q "workload exec'd" "$work/err"
if [ -n "${CLEARVM_TEST_COLD:-}" ]; then
	check "--no-template: the trace says cold" grep -Eq '"path": *"cold"' "$work/stats.json"
else
	check "the trace says the run started from a template" grep -Eq '"path": *"template(-built)?"' "$work/stats.json"
fi

# Templates (run once, by the template pass): the first run for a set of inputs builds one,
# later runs start from it with their own randomness and the host's time; concurrent first
# runs build one; changed inputs or a damaged template are never restored.
if [ -z "${CLEARVM_TEST_COLD:-}" ]; then
	tdir=$(mktemp -d /dev/shm/clearvm-tpl.XXXXXX)
	tpl() { cvm --template-dir "$tdir" --stats-json "$work/$1.json" "${@:2}"; }
	path_of() { sed -n 's/^ *"path": *"\(.*\)",*$/\1/p' "$work/$1.json"; }
	tpl t1 --rootfs "$root" -- /bin/true; rc=$?
	check "the first run builds the template ($(path_of t1), status $rc)" test "$(path_of t1)/$rc" = template-built/0
	check "one template, memory and state, in the directory" \
		test "$(ls "$tdir"/*.mem | wc -l)/$(ls "$tdir"/*.state | wc -l)" = 1/1
	rand='head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; date +%s'
	tpl t2 --rootfs "$root" -- /bin/sh -c "$rand" > "$work/r1"; rc=$?
	host_now=$(date +%s)
	tpl t3 --rootfs "$root" -- /bin/sh -c "$rand" > "$work/r2"
	check "the next runs start from it ($(path_of t2), $(path_of t3), status $rc)" \
		test "$(path_of t2)/$(path_of t3)/$rc" = template/template/0
	check "two containers from one template read different random bytes" \
		sh -c "[ \"\$(head -c 64 $work/r1)\" != \"\$(head -c 64 $work/r2)\" ] && [ \$(head -1 $work/r1 | wc -c) = 65 ]"
	guest_now=$(sed -n 2p "$work/r1")
	check "a restored guest's clock is the host's (guest $guest_now, host $host_now)" \
		test "${guest_now:-0}" -ge $((host_now - 3)) -a "${guest_now:-0}" -le $((host_now + 1))
	tdir2=$(mktemp -d /dev/shm/clearvm-tpl.XXXXXX)
	for i in 1 2 3; do
		cvm --template-dir "$tdir2" --stats-json "$work/c$i.json" --rootfs "$root" -- /bin/true &
	done
	wait
	check "three first runs at once build one template, and all start from it" \
		test "$(cat "$work"/c[123].json | grep -Ec '"path": *"template-built"')/$(cat "$work"/c[123].json | grep -Ec '"path": *"template"')/$(ls "$tdir2"/*.mem | wc -l)" = 1/2/1
	cp "$build/vmlinux" "$work/vmlinux.new"
	"$build/clearvm" --kernel "$work/vmlinux.new" --initramfs "$build/initramfs.cpio" --timeout 120 \
		--template-dir "$tdir" --stats-json "$work/t4.json" --rootfs "$root" -- /bin/true; rc=$?
	check "a changed kernel is not restored from the old template: a new one is built ($(path_of t4), $rc)" \
		test "$(path_of t4)/$rc/$(ls "$tdir"/*.mem | wc -l)" = template-built/0/2
	truncate -s 100 "$tdir"/*.state
	tpl t5 --rootfs "$root" -- /bin/true; rc=$?
	check "a damaged template is built again, never used ($(path_of t5), $rc)" test "$(path_of t5)/$rc" = template-built/0
	tpl t6 --no-template --rootfs "$root" -- /bin/true; rc=$?
	check "--no-template boots cold ($(path_of t6), $rc)" test "$(path_of t6)/$rc" = cold/0
	cvm --template-dir /proc/no-such-dir --stats-json "$work/t7.json" --rootfs "$root" -- /bin/true; rc=$?
	check "a template directory that cannot be made: a cold boot that works ($(path_of t7), $rc)" \
		test "$(path_of t7)/$rc" = cold/0
	CLEARVM_TEST_RESTORE_FAILURE=1 tpl t9 --rootfs "$root" -- /bin/sh -c 'echo ran; exit 5' > "$work/out" 2> "$work/err"; rc=$?
	check "a template that loads but cannot be restored: the run boots cold ($(path_of t9), $rc, $(cat "$work/out"))" \
		test "$(path_of t9)/$rc/$(cat "$work/out")" = cold/5/ran
	check "and says nothing of it on stderr" test ! -s "$work/err"
	tpl t8 --memory 1536 --rootfs "$root" -- /bin/sh -c 'exit 6'; rc=$?
	check "a 1.5 GiB VM from its template: its RAM counts in the VMM's memory limit ($(path_of t8), $rc)" \
		test "$(path_of t8)/$rc" = template-built/6
	# The CPU KVM offers is part of the key: kvm_amd reloaded with nested virtualization the
	# other way offers another CPUID (the SVM bit), and a template saved before is not used.
	# (The test bed's modules are in its initramfs, PID 1's root.)
	kvm_amd_ko=/proc/1/root/modules/kvm-amd.ko
	if [ -n "${CLEARVM_IN_TESTBED:-}" ] && [ -e /sys/module/kvm_amd/parameters/nested ] && [ -f "$kvm_amd_ko" ]; then
		nested=$(cat /sys/module/kvm_amd/parameters/nested)
		other=$([ "$nested" = 1 ] && echo 0 || echo 1)
		rmmod kvm_amd && insmod "$kvm_amd_ko" nested="$other" && chmod 0666 /dev/kvm
		check "(kvm_amd reloaded with nested=$other)" test "$(cat /sys/module/kvm_amd/parameters/nested)" = "$other"
		tpl t10 --rootfs "$root" -- /bin/true; rc=$?
		rmmod kvm_amd && insmod "$kvm_amd_ko" nested="$nested" && chmod 0666 /dev/kvm
		tpl t11 --rootfs "$root" -- /bin/true; rc2=$?
		check "a KVM offering another CPU (kvm_amd nested=$other) builds a template of its own ($(path_of t10), $rc)" \
			test "$(path_of t10)/$rc" = template-built/0
		check "and the first one serves again once it is back ($(path_of t11), $rc2)" test "$(path_of t11)/$rc2" = template/0
	else
		skip "a KVM offering another CPU builds a template of its own" "reloads kvm_amd: only in the test bed"
	fi
	rm -rf "$tdir" "$tdir2"
fi

# clearvm-bench times only runs that did what they were asked: every run, cold ones too, ran
# the command (each appends a line to a file in the rootfs), or it prints no figure at all.
if [ -z "${CLEARVM_TEST_COLD:-}" ]; then
	rm -f "$root/bench-ran"
	"$build/clearvm-bench" --runs 2 --compare cold --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- /bin/sh -c 'echo x >> /bench-ran' > "$work/out" 2> "$work/err"; rc=$?
	check "clearvm-bench --runs 2 --compare cold: 5 runs ran the command (template build, 2, 2 cold: $(wc -l < "$root/bench-ran" 2>/dev/null), status $rc)" \
		test "$(wc -l < "$root/bench-ran" 2>/dev/null)/$rc" = 5/0
	check "and it printed figures" grep -q 'p50' "$work/out"
	"$build/clearvm-bench" --runs 1 --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- /bin/sh -c 'exit 3' > "$work/out" 2> "$work/err"; rc=$?
	check "a run that ends with another status than expected: no figures, an error (got $rc)" \
		test $rc != 0 -a -z "$(grep p50 "$work/out")" -a -n "$(grep 'no figures' "$work/err")"
	check "and the bench leaves no directory behind" \
		test -z "$(ls -d /tmp/clearvm-bench.* /dev/shm/clearvm-bench.* 2>/dev/null)"
	"$build/clearvm-bench" --runs 1 --expect-status 3 --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- /bin/sh -c 'exit 3' > "$work/out" 2> "$work/err"; rc=$?
	check "--expect-status 3 accepts it (got $rc)" test $rc = 0
	rm -f "$root/bench-ran"
fi

# seccomp: every thread role runs under its allowlist (every other case here runs with it);
# a call outside it kills clearvm (a hidden hook makes each role try one).
for role in vcpu io main p9; do
	CLEARVM_TEST_SECCOMP_VIOLATION=$role cvm --rootfs "$root" -- /bin/true 2> /dev/null; rc=$?
	check "a forbidden system call in the $role thread kills clearvm with SIGSYS (159, got $rc)" test $rc = 159
done
CLEARVM_TEST_SECCOMP_VIOLATION=vcpu cvm --rootfs "$root" --seccomp=log -- /bin/sh -c 'exit 4'; rc=$?
check "--seccomp=log lets it through (the command's 4, got $rc)" test $rc = 4
CLEARVM_TEST_SECCOMP_VIOLATION=vcpu cvm --rootfs "$root" --seccomp=off -- /bin/true; rc=$?
check "--seccomp=off has no filter (got $rc)" test $rc = 0

# Once the VM is built: capabilities only in the file server threads, each confined to its
# share; no_new_privs, a filter in every thread, no inherited fds, no core dumps, bounded fds
# and memory.
mounts_before=$(wc -l < /proc/self/mountinfo)
mkdir -p "$work/vol"
echo inherited-secret > "$work/inherited"
rm -f "$work/vol/done"
# The workload runs (so every thread has started and set itself up) until the host has looked.
cvm --rootfs "$root" -v "$work/vol:/vol:ro" -- /bin/sh -c \
	'echo ready; until [ -e /vol/done ]; do sleep 0.1; done; echo released' 7< "$work/inherited" > "$work/live" &
bg=$!
check "(the workload of the live clearvm runs)" wait_until 100 grep -qx ready "$work/live"
vmm=$(pgrep -x clearvm -P $bg 2>/dev/null || pgrep -nx clearvm)
status=$(cat /proc/$vmm/status 2>/dev/null)
servers=$(grep -lx clearvm-9p /proc/$vmm/task/*/comm 2>/dev/null | xargs -r dirname)
others=$(grep -Lx clearvm-9p /proc/$vmm/task/*/comm 2>/dev/null | xargs -r dirname)
check "one file server thread per share (root and volume: $(wc -w <<< "$servers"))" test "$(wc -w <<< "$servers")" = 2
check "as root, the file servers keep only CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID" \
	test "$(cat $(sed 's|$|/status|' <<< "$servers") | grep -cx $'Cap\\(Eff\\|Bnd\\):\t000000000000001f')" = 4
check "every other thread keeps no capability at all, not even in its bounding set" \
	test "$(cat $(sed 's|$|/status|' <<< "$others") | grep -cx $'Cap\\(Eff\\|Prm\\|Bnd\\):\t0000000000000000')" = \
	"$(( 3 * $(wc -w <<< "$others") ))"
jailed=0 ro=0
for t in $servers; do
	[ "$(ls "$t/root" | tr '\n' ' ')" = "fd share " ] && [ "$(wc -l < "$t/mountinfo")" = 3 ] &&
		grep -Eq '^([^ ]+ ){4}/share r[ow],nosuid,nodev' "$t/mountinfo" && jailed=$((jailed + 1))
	grep -Eq '^([^ ]+ ){4}/share ro,' "$t/mountinfo" && ro=$((ro + 1))
done
check "each file server's root holds only its share and the fd directory (3 mounts, nosuid nodev)" \
	test $jailed = 2
check "a read-only volume's share is mounted read-only in its jail" test $ro = 1
check "the file servers' share is the one they serve" \
	sh -c "ls $(sed 's|$|/root/share/|' <<< "$servers" | head -1) | grep -qx bin"
caps=$(sed -n 's/^Cap\(Inh\|Amb\):\t//p' <<< "$status" | tr -d '\n')
check "none inheritable or ambient" test "$caps" = 00000000000000000000000000000000
check "no_new_privs and a seccomp filter in every thread" \
	test "$(cat /proc/$vmm/task/*/status | grep -cE $'^(NoNewPrivs:\t1|Seccomp:\t2)$')" = "$(( 2 * $(ls /proc/$vmm/task | wc -l) ))"
check "the fd it inherited is closed" test -z "$(ls -l /proc/$vmm/fd 2>/dev/null | grep inherited)"
check "no core dumps, bounded fds and memory (1 GiB beside 256 MiB of guest RAM)" \
	sh -c "grep -Eq '^Max core file size +0 +0' /proc/$vmm/limits && grep -Eq '^Max data size +1342177280' /proc/$vmm/limits"
touch "$work/vol/done"
wait $bg; rc=$?
check "(the live clearvm was still running when looked at: released, $rc)" \
	test "$(tail -1 "$work/live")/$rc" = released/0
check "a run leaves the host's mount table as it was" test "$(wc -l < /proc/self/mountinfo)" = "$mounts_before"

# Escapes tried from inside the guest: device nodes, a symlink swapped in while the guest walks
# the path, and more open files than the file server keeps fids for.
out=$(cvm --rootfs "$root" -- /bin/sh -c 'mknod /blockdev b 8 0; echo b=$?; mknod /chardev c 1 3; echo c=$?; touch /plain; echo f=$?' 2> /dev/null)
check "(the VM ran: a file is made, the device nodes are refused: $(echo $out))" test "$(echo $out)" = "b=1 c=1 f=0"
check "mknod of block and char devices fails and leaves nothing on the host" \
	test ! -e "$root/blockdev" -a ! -e "$root/chardev" -a -f "$root/plain"
rm -f "$root/plain"
mkdir -p "$root/race/dir" "$work/outdir" && echo inside > "$root/race/dir/f" && echo host-only > "$work/outdir/f"
ln -s "$work/outdir" "$root/race/lnk"
(
	while [ ! -e "$work/race-done" ]; do
		mv -T "$root/race/dir" "$root/race/d" && mv -T "$root/race/d" "$root/race/dir"
		mv -T "$root/race/lnk" "$root/race/d" && mv -T "$root/race/d" "$root/race/lnk"
	done
) 2> /dev/null &
swapper=$!
out=$(cvm --rootfs "$root" -- /bin/sh -c 'i=0; while [ $i -lt 400 ]; do cat /race/d/f /race/d/../d/f 2>/dev/null; i=$((i+1)); done')
touch "$work/race-done"
wait $swapper
check "a directory swapped for a symlink to the host while the guest walks it: never the host's file" \
	test -z "$(grep host-only <<< "$out")"
check "(the guest did read through the directory: $(grep -c inside <<< "$out") times)" grep -q inside <<< "$out"
mkdir -p "$root/many" && for i in $(seq 0 999); do : > "$root/many/f$i"; done
cp "$build/tests/fsprobe" "$root/fsprobe"
out=$(cvm --rootfs "$root" -- /bin/sh -c 'for p in 1 2 3 4 5; do /fsprobe fids /many & done; wait; cat /race/dir/f')
opened=$(( $(sed -n 's/^opened //p' <<< "$out" | paste -sd+ -) + 0 ))
# Each open file costs the server a fid and two host fds, so its fd limit comes first.
check "5,000 files held open at once run into the file server's limits (opened ${opened:-?})" \
	test "${opened:-5000}" -lt 5000 -a "${opened:-0}" -gt 500
check "and it goes on serving once they are closed" test "$(tail -1 <<< "$out")" = inside
rm -rf "$root/many" "$root/race" "$root/fsprobe"

# Hostile guests (tests/tools/badguest.S): each ends with 125 and a reason, or, when clearvm
# survives what it did, with the status it reports; many in a row leave nothing behind.
bad() { "$build/clearvm" --kernel "$build/tests/badguest-$1" --initramfs "$build/initramfs.cpio" \
	--rootfs "$root" --timeout "${2:-60}" -- /bin/true; }
leftovers() { ls -d /tmp/clearvm* /dev/shm/* 2>/dev/null | grep -vxF "${CLEARVM_TEMPLATE_DIR:-/none}" | sort; }
before=$(leftovers)
bad hang 3 2> "$work/err"; rc=$?
check "a guest that never reports: 125 at --timeout (got $rc)" test $rc = 125 -a -n "$(grep timeout "$work/err")"
bad triple 2> "$work/err"; rc=$?
check "a guest that triple-faults: 125 (got $rc)" test $rc = 125
check "with one line saying the kernel stopped" test "$(grep -c 'kernel stopped' "$work/err")" = 1
bad flood; rc=$?
check "a guest writing garbage all over the virtio registers: clearvm survives, its 7 (got $rc)" test $rc = 7
bad corrupt; rc=$?
check "a guest whose queue loops and points outside RAM: clearvm survives, its 9 (got $rc)" test $rc = 9
mem_before=$(sed -n 's/^MemAvailable: *//p' /proc/meminfo)
wrong=0
for i in $(seq 15); do
	bad triple 2> /dev/null; [ $? = 125 ] || wrong=$((wrong + 1))
	bad corrupt; [ $? = 9 ] || wrong=$((wrong + 1))
done
echo "# 30 hostile runs: MemAvailable $mem_before -> $(sed -n 's/^MemAvailable: *//p' /proc/meminfo)"
check "30 hostile runs in a row all end as they should ($wrong did not)" test $wrong = 0
check "and leave no clearvm process behind" test -z "$(pgrep -x clearvm)"
check "nor files in /tmp or /dev/shm" test "$(leftovers)" = "$before"

# --console shows the guest kernel's log on stderr; without it, stderr is the workload's only.
cvm --rootfs "$root" --console -- /bin/true 2> "$work/err"
check "--console shows the kernel log" grep -q 'Linux version' "$work/err"
cvm --rootfs "$root" -- /bin/true 2> "$work/err"
check "without --console stderr stays empty" test ! -s "$work/err"

tap_done
