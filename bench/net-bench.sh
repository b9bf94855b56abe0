#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# net-bench: TCP throughput through clearvm's default network (virtio-net and passt), both
# ways, 1 GiB each: a peer on the host's loopback (reached from the guest at the gateway)
# counts what it receives or sends, and the guest's side checks the byte count. Every run must
# exit 0 and move exactly 1 GiB, or the bench prints no figure at all.
#
#   bench/net-bench.sh [--rounds N] BUILD ROOTFS
#
# Run it where clearvm has a KVM and the host a default route (tests/with-kvm -- ...).
set -uo pipefail
rounds=3
[ "${1:-}" = --rounds ] && { rounds=$2; shift 2; }
build=${1:?usage: net-bench.sh [--rounds N] BUILD ROOTFS} rootfs=${2:?usage: net-bench.sh [--rounds N] BUILD ROOTFS}
work=$(mktemp -d "${TMPDIR:-/tmp}/clearvm-net-bench.XXXXXX")
trap 'kill $(jobs -p) 2> /dev/null; rm -rf "$work"' EXIT
size=$((1 << 30))
port=18200
gw=$(ip -4 route show default | awk '{print $3; exit}')
[ -n "$gw" ] || { echo "net-bench: no default route; no figures" >&2; exit 1; }
die() { echo "net-bench: $*; no figures printed" >&2; exit 1; }

# The host's end: "send" answers the first connection's HTTP request with SIZE bytes (the
# guest's client is busybox wget), "recv" reads SIZE bytes; either prints the byte count and
# the seconds from the first byte to the last, then closes.
peer() {
	python3 - "$@" <<'PY'
import socket, sys, time
mode, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
buf = bytes(1 << 20)
done, t0 = 0, None
if mode == "send":
    req = b""
    while b"\r\n\r\n" not in req:
        more = c.recv(4096)
        if not more:
            sys.exit(1)
        req += more
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
    t0 = time.monotonic()
    while done < size:
        done += c.send(buf[: min(len(buf), size - done)])
else:
    while done < size:
        data = c.recv(1 << 20)
        if not data:
            break
        n = len(data)
        if t0 is None:
            t0 = time.monotonic()
        done += n
print(f"{done} {time.monotonic() - t0:.3f}", flush=True)
PY
}

cvm() {
	"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --rootfs "$rootfs" \
		--timeout 600 "$@"
}

# One direction: NAME, the host peer's mode, the guest's command. Appends "NAME MiB/s".
measure() {
	local name=$1 mode=$2 cmd=$3
	local out=$work/peer.$name
	peer "$mode" $port $size > "$out" &
	local pid=$!
	for _ in $(seq 100); do grep -q ready "$out" 2> /dev/null && break; sleep 0.1; done
	grep -q ready "$out" || die "$name: the host's peer did not start"
	local got
	got=$(cvm -- /bin/sh -c "$cmd") || die "$name: clearvm exited $?"
	wait $pid || die "$name: the host's peer failed"
	read -r bytes secs <<< "$(tail -1 "$out")"
	[ "$bytes" = $size ] || die "$name: the host's peer moved $bytes bytes, not $size"
	[ "$got" = $size ] || die "$name: the guest counted '$got' bytes, not $size"
	awk -v n="$name" -v b="$bytes" -v s="$secs" 'BEGIN {printf "%s %.1f\n", n, b / 1048576 / s}' >> "$work/results"
}

cvm -- /bin/true || die "a first run (the template) exited $?"
for r in $(seq "$rounds"); do
	measure host-to-guest send "wget -qO- http://$gw:$port/ | wc -c"
	measure guest-to-host recv "dd if=/dev/zero bs=65536 count=16384 2> /tmp/dd | nc $gw $port > /dev/null; sed -n 's/^\([0-9]*\) bytes.*/\1/p' /tmp/dd"
done
echo "TCP throughput through passt, 1 GiB per run, $rounds rounds (MiB/s): min p50 max"
for name in host-to-guest guest-to-host; do
	awk -v n=$name '$1 == n {print $2}' "$work/results" | sort -n |
		awk -v n=$name '{v[NR] = $1} END {printf "%-14s %8.1f %8.1f %8.1f\n", n, v[1], v[int((NR + 1) / 2)], v[NR]}'
done
