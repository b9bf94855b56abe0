#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# volume-bench: a volume shared over 9p and over virtio-fs (--volume-fs), side by side in one
# run (rounds alternate between the two), each run a new VM from a template with the test
# rootfs as its root. Workloads: 1,000 small files written into a volume and read back, and
# `find` and `tar -c` of a read-only volume holding the test rootfs. Prints the median wall
# time of each in milliseconds. Every run must exit 0 and print what the other way printed
# (the same count of files, the same bytes of tar), or the bench prints no figure at all.
#
#   bench/volume-bench.sh [--rounds N] BUILD_DIR
#
# Run it where clearvm has a KVM (tests/with-kvm -- bench/volume-bench.sh ...).
set -uo pipefail
rounds=5
if [ "${1:-}" = --rounds ]; then rounds=$2; shift 2; fi
b=$(cd "${1:?usage: $0 [--rounds N] BUILD_DIR}" && pwd)
die() {
	echo "volume-bench: $*; no figures printed" >&2
	exit 1
}
# On a local tmpfs (in the test bed, its own: /tmp there is the host's over 9p).
work=$(mktemp -d /dev/shm/clearvm-volume-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/vol" && cp -a "$b/rootfs" "$work/tree" || die "copying the test rootfs"
results=$work/results
ways=(9p virtiofs)
workloads=(files tree)
run_in() { # WAY WORKLOAD: its stdout
	local vol cmd
	case "$2" in
	files)
		vol=$work/vol:/w
		cmd='for i in $(seq 1000); do echo $i > /w/$i; done; cat /w/* | wc -l; rm -f /w/*'
		;;
	tree)
		vol=$work/tree:/w:ro
		cmd='find /w | wc -l; tar -c /w 2>/dev/null | wc -c'
		;;
	esac
	CLEARVM_TEMPLATE_DIR=$work/templates "$b/clearvm" --kernel "$b/vmlinux" --initramfs "$b/initramfs.cpio" \
		--network none --volume-fs "$1" -v "$vol" --rootfs "$b/rootfs" -- /bin/sh -c "$cmd"
}
# A warm-up run of each way (the first makes its template); 9p's output is what both must print.
for way in "${ways[@]}"; do run_in "$way" tree > /dev/null || die "$way warm-up exited $?"; done
for w in "${workloads[@]}"; do run_in 9p "$w" > "$work/expect.$w" || die "9p $w exited $?"; done
for ((r = 0; r < rounds; r++)); do
	for w in "${workloads[@]}"; do
		for way in "${ways[@]}"; do
			t0=$(date +%s%N)
			run_in "$way" "$w" > "$work/out" || die "$way $w exited $?"
			t1=$(date +%s%N)
			cmp -s "$work/out" "$work/expect.$w" ||
				die "$way $w printed $(head -c 80 "$work/out") where 9p printed $(head -c 80 "$work/expect.$w")"
			echo "$way $w $(((t1 - t0) / 1000000))" >> "$results"
		done
	done
done
python3 - "$results" "$rounds" <<'PY'
import statistics, sys
path, rounds = sys.argv[1], sys.argv[2]
t = {}
for line in open(path):
    way, w, ms = line.split()
    t.setdefault((way, w), []).append(int(ms))
print(f"volume-bench: median ms (min-max) of {rounds} rounds, one VM a run")
print("| workload | 9p | virtiofs |")
print("|---|---|---|")
for w, name in (("files", "1,000 small files written, read"), ("tree", "find + tar -c of a read-only volume")):
    cells = [f"{statistics.median(t[(way, w)]):.0f} ({min(t[(way, w)])}-{max(t[(way, w)])})" for way in ("9p", "virtiofs")]
    print(f"| {name} | " + " | ".join(cells) + " |")
PY
