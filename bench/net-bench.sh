#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# net-bench: clearvm's default network (virtio-net and passt) side by side with QEMU microvm's
# virtio-net-device on a stream netdev to the same passt, started the same way, booting the
# same kernel, guest-init, rootfs and launch spec (clearvm-bench --qemu-once). Each round runs
# every measure on clearvm, then on QEMU:
#   host-to-guest  the guest reads SIZE bytes a host peer sends (TCP, MiB/s)
#   guest-to-host  the guest writes SIZE bytes a host peer reads (TCP, MiB/s)
#   rr             COUNT one-byte requests answered by the host peer (round trips/s)
# The host's peer listens on loopback (the guest reaches it at the gateway), counts the bytes
# and times them from the first to the last; the guest's side (tests/tools/tcpbench) checks its
# own count. Every run must exit 0 and move exactly what it was asked, or no figure is printed.
#
# With --tap (root), the same measures through a tap the bench makes (cvbench0, 10.98.0.1/24,
# deleted at the end), clearvm with vhost-net (--vhost-net on) side by side with clearvm moving
# the frames itself (--vhost-net off); the host's peer listens on the tap's address.
#
#   bench/net-bench.sh [--tap] [--rounds N] [--size MIB] [--count N] BUILD ROOTFS
#
# Run it where clearvm has a KVM and the host a default route (tests/with-kvm -- ...).
set -uo pipefail
rounds=3 mib=1024 count=2000 tap=
usage="usage: net-bench.sh [--tap] [--rounds N] [--size MIB] [--count N] BUILD ROOTFS"
while [ $# -gt 2 ]; do
	case "$1" in
	--tap) tap=cvbench0; shift; continue ;;
	--rounds) rounds=$2 ;;
	--size) mib=$2 ;;
	--count) count=$2 ;;
	*) echo "net-bench: $1: unknown option" >&2; exit 2 ;;
	esac
	shift 2
done
build=${1:?$usage} rootfs=${2:?$usage}
work=$(mktemp -d "${TMPDIR:-/tmp}/clearvm-net-bench.XXXXXX")
trap 'kill $(jobs -p) 2> /dev/null; [ -z "$tap" ] || ip link del "$tap" 2> /dev/null; rm -rf "$work"' EXIT
size=$((mib << 20))
port=18200
die() { echo "net-bench: $*; no figures printed" >&2; exit 1; }
if [ -n "$tap" ]; then
	ip tuntap add dev "$tap" mode tap && ip addr add 10.98.0.1/24 dev "$tap" &&
		ip link set "$tap" up || die "cannot make the tap $tap (root?)"
	gw=10.98.0.1 listen=10.98.0.1 vmms="cvh cvc"
else
	gw=$(ip -4 route show default | awk '{print $3; exit}')
	[ -n "$gw" ] || die "no default route"
	listen=127.0.0.1 vmms="cvm qvm"
fi

# The guest's root: the rootfs with tcpbench added (a copy: the caller's is left as it is).
root=$work/root
cp -a "$rootfs" "$root" && cp "$build/tests/tcpbench" "$root/bin/tcpbench" || die "cannot copy $rootfs"

# The host's end, on one connection: "send N" writes N bytes, "recv N" reads N bytes, "echo N"
# answers N one-byte requests; it prints the count and the seconds from the first byte to the
# last, then closes. "recv" greets the guest with one byte first: Debian 12's passt resets a
# connection the guest opened when the host has sent nothing on it for 24 s (see README).
peer() {
	python3 - "$@" <<'PY'
import socket, sys, time
mode, port, n, addr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(1)
print("ready", flush=True)
s.settimeout(300)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = bytes(1 << 20)
done, t0 = 0, time.monotonic()
if mode == "send":
    while done < n:
        done += c.send(buf[: min(len(buf), n - done)])
elif mode == "recv":
    c.sendall(b"+")
    t0 = None
    while done < n:
        data = c.recv(1 << 20)
        if not data:
            break
        t0 = t0 or time.monotonic()
        done += len(data)
else:
    t0 = None
    while done < n:
        data = c.recv(1)
        if not data:
            break
        t0 = t0 or time.monotonic()
        c.sendall(data)
        done += 1
t = time.monotonic() - (t0 or time.monotonic())
c.close()
print(f"{done} {t:.3f}", flush=True)
PY
}

clearvm() { # OPTIONS -- COMMAND
	"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --rootfs "$root" \
		--timeout 900 ${tap:+--network tap:$tap} "$@"
}
cvm() { clearvm -- "$@"; }
cvh() { clearvm --vhost-net on -- "$@"; }
cvc() { clearvm --vhost-net off -- "$@"; }
qvm() {
	"$build/clearvm-bench" --qemu-once --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- "$@" 2> "$work/qemu.err"
}

# One run: VMM (cvm or qvm), NAME, the peer's mode and count, the guest's tcpbench arguments.
# Appends "VMM NAME FIGURE" (MiB/s, or round trips/s for rr).
measure() {
	local vmm=$1 name=$2 mode=$3 n=$4
	shift 4
	local out=$work/peer.$name
	peer "$mode" $port "$n" $listen > "$out" &
	local pid=$!
	for _ in $(seq 100); do grep -q ready "$out" 2> /dev/null && break; sleep 0.1; done
	grep -q ready "$out" || die "$name: the host's peer did not start"
	local got
	got=$($vmm /bin/tcpbench "$gw" $port "$@") || die "$vmm $name: the guest's side exited $?"
	wait $pid || die "$vmm $name: the host's peer failed"
	read -r done secs <<< "$(tail -1 "$out")"
	[ "$done" = "$n" ] || die "$vmm $name: the host's peer moved $done, not $n"
	[ "$got" = "$n" ] || die "$vmm $name: the guest counted '$got', not $n"
	local unit=1048576
	[ "$name" = rr ] && unit=1
	awk -v v=$vmm -v m=$name -v d="$done" -v s="$secs" -v unit=$unit \
		'BEGIN {printf "%s %s %.1f\n", v, m, d / unit / s}' >> "$work/results"
}

cvm /bin/true || die "a first run (the template) exited $?"
for r in $(seq "$rounds"); do
	for vmm in $vmms; do
		measure $vmm host-to-guest send $size recv
		measure $vmm guest-to-host recv $size send $size
		measure $vmm rr echo "$count" rr "$count"
	done
done
via=${tap:+a tap ($tap)}
echo "net-bench: $rounds rounds; TCP through ${via:-passt}, $mib MiB per run (MiB/s)," \
	"$count round trips per run (/s)"
printf "%-14s %-16s %10s %10s %10s\n" measure vmm min p50 max
declare -A label=([cvm]=clearvm [qvm]=qemu [cvh]="clearvm vhost" [cvc]="clearvm no-vhost")
for name in host-to-guest guest-to-host rr; do
	for vmm in $vmms; do
		awk -v v=$vmm -v m=$name '$1 == v && $2 == m {print $3}' "$work/results" | sort -n |
			awk -v m=$name -v v="${label[$vmm]}" \
				'{x[NR] = $1} END {printf "%-14s %-16s %10.1f %10.1f %10.1f\n", m, v, x[1], x[int((NR + 1) / 2)], x[NR]}'
	done
done
