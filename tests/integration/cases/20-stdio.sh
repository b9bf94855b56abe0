# SPDX-License-Identifier: Apache-2.0
# stdout, stderr and stdin: binary-exact, any size, argv and env of any bytes, a slow reader,
# and the kernel's log only with --console.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

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

# stdin: -i passes it through, EOF included; without -i the workload's stdin is empty.
out=$(echo hi | cvm --rootfs "$root" -i -- /bin/cat); rc=$?
check "echo hi | clearvm -i -- cat prints hi and exits 0 (got $rc)" test "$out" = hi -a $rc = 0
head -c 1048576 /dev/urandom > "$work/in.bin"
cvm --rootfs "$root" -i -- /bin/cat < "$work/in.bin" > "$work/out"
check "1 MiB of random stdin comes back exactly" cmp -s "$work/in.bin" "$work/out"
out=$(echo hi | cvm --rootfs "$root" -- /bin/cat); rc=$?
check "without -i the workload reads EOF at once (got '$out', $rc)" test -z "$out" -a $rc = 0

# Output that waits for a slow reader is all there once the run ends, in order.
cvm --rootfs "$root" -- /bin/sh -c 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done' \
	| { read -r first; sleep 2; echo "$first"; cat; } > "$work/slow"
check "a reader that is slow to start gets every line, in order" \
	test "$(wc -l < "$work/slow")/$(head -1 "$work/slow")/$(tail -1 "$work/slow")" = "20000/line 0/line 19999"

# --console shows the guest kernel's log on stderr; without it, stderr is the workload's only.
cvm --rootfs "$root" --console -- /bin/true 2> "$work/err"
check "--console shows the kernel log" grep -q 'Linux version' "$work/err"
cvm --rootfs "$root" -- /bin/true 2> "$work/err"
check "without --console stderr stays empty" test ! -s "$work/err"
