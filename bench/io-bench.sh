#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# io-bench: the I/O path of one or more clearvm builds, side by side in one run (rounds
# alternate between them): /bin/true (template and cold: wall time), 1 GiB written to stdout
# (throughput, and clearvm's CPU time), and 1,000 small writes interleaved on stdout and
# stderr (the time from the first line's arrival on the host to the last's, and that per
# write: the lines come in batches, so the gaps between single arrivals say little). Every run must exit 0 and deliver exactly what it was asked to, or the bench prints
# no figure at all. Each BUILD is a build directory (clearvm, vmlinux, initramfs.cpio).
#
#   bench/io-bench.sh [--rounds N] --rootfs DIR NAME=BUILD [NAME=BUILD...]
#
# Run it where clearvm has a KVM (tests/with-kvm -- bench/io-bench.sh ...).
set -uo pipefail
rounds=5
rootfs=
bins=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift 2 ;;
	--rootfs) rootfs=$2; shift 2 ;;
	*=*) bins+=("$1"); shift ;;
	*) echo "io-bench: unexpected argument $1" >&2; exit 2 ;;
	esac
done
if [ -z "$rootfs" ] || [ ${#bins[@]} -eq 0 ]; then
	echo "usage: $0 [--rounds N] --rootfs DIR NAME=BUILD..." >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/clearvm-io-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
results=$work/results

die() {
	echo "io-bench: $*; no figures printed" >&2
	exit 1
}

# One measured run: its name, the kind, then the clearvm command. Appends "NAME KIND VALUE..."
measure() {
	local name=$1 kind=$2
	shift 2
	case "$kind" in
	true-template|true-cold)
		local t0 t1
		t0=$(date +%s%N)
		"$@" -- /bin/true || die "$name $kind exited $?"
		t1=$(date +%s%N)
		echo "$name $kind $(((t1 - t0) / 1000))" >> "$results" ;;
	stdout-1g)
		# clearvm's own CPU time from its rusage (as a child of time(1)), bytes counted on the host.
		/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" -- /bin/sh -c \
			'head -c 1073741824 /dev/zero' | wc -c > "$work/count"
		local st=${PIPESTATUS[0]}
		[ "$st" = 0 ] || die "$name $kind exited $st"
		[ "$(cat "$work/count")" = 1073741824 ] || die "$name $kind delivered $(cat "$work/count") bytes"
		read -r wall user sys < "$work/time"
		echo "$name $kind $wall $user $sys" >> "$results" ;;
	interleaved)
		python3 - "$name" "$@" >> "$results" <<'PY' || die "$name $kind failed"
import os, selectors, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
script = 'i=0; while [ $i -lt 1000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done'
p = subprocess.Popen(cmd + ["--", "/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
sel = selectors.DefaultSelector()
sel.register(p.stdout, selectors.EVENT_READ, "o")
sel.register(p.stderr, selectors.EVENT_READ, "e")
arrivals, got, open_ = [], {"o": b"", "e": b""}, 2
while open_:
    for key, _ in sel.select():
        data = os.read(key.fileobj.fileno(), 65536)
        if not data:
            sel.unregister(key.fileobj)
            open_ -= 1
            continue
        now = time.monotonic()
        got[key.data] += data
        arrivals += [now] * data.count(b"\n")
if p.wait() != 0:
    sys.exit("exit status %d" % p.returncode)
want_o = b"".join(b"o%d\n" % i for i in range(1000))
want_e = b"".join(b"e%d\n" % i for i in range(1000))
if got["o"] != want_o or got["e"] != want_e:
    sys.exit("the 2,000 lines did not all arrive in order")
arrivals.sort()
print(name, "interleaved", (arrivals[-1] - arrivals[0]) * 1e3)
PY
		;;
	esac
}

for ((round = 0; round < rounds; round++)); do
	for b in "${bins[@]}"; do
		name=${b%%=*} dir=${b#*=}
		cvm=("$dir/clearvm" --kernel "$dir/vmlinux" --initramfs "$dir/initramfs.cpio" --rootfs "$rootfs")
		tdir=$work/template-$name
		[ $round -gt 0 ] || "${cvm[@]}" --template-dir "$tdir" -- /bin/true ||
			die "$name: the template build run exited $?"
		measure "$name" true-template "${cvm[@]}" --template-dir "$tdir"
		measure "$name" true-cold "${cvm[@]}" --no-template
		measure "$name" stdout-1g "${cvm[@]}" --template-dir "$tdir"
		measure "$name" interleaved "${cvm[@]}" --template-dir "$tdir"
	done
done

python3 - "$results" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, kind, *vals = line.split()
    rows[(name, kind)].append([float(v) for v in vals])
names = sorted({n for n, _ in rows}, key=lambda n: [k for k, _ in rows].index(n))
med = lambda xs: statistics.median(xs)
print("%-15s %13s %13s %11s %11s %11s %13s" % ("p50 of rounds", "true tmpl ms", "true cold ms",
      "1GiB MiB/s", "1GiB cpu s", "2000 ms", "per write us"))
for n in names:
    t = med([v[0] for v in rows[(n, "true-template")]]) / 1000
    c = med([v[0] for v in rows[(n, "true-cold")]]) / 1000
    g = rows[(n, "stdout-1g")]
    mibs = med([1024 / v[0] for v in g])
    cpu = med([v[1] + v[2] for v in g])
    i = rows[(n, "interleaved")]
    span = med([v[0] for v in i])
    print("%-15s %13.1f %13.1f %11.1f %11.2f %11.1f %13.1f" % (n, t, c, mibs, cpu, span, span * 1000 / 2000))
PY
