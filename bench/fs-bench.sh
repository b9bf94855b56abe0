#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# fs-bench: the file system a container sees, side by side in one run (rounds alternate between
# the ways): a Debian 12 userland (tests/tools/debian-rootfs.sh) run under `chroot` of the
# directory and under clearvm sharing it over 9p and over virtio-fs (from a template). Workloads: `python3 -c
# pass`, `/bin/true`, `find /usr /etc /var -xdev | wc -l`, `tar -c /usr | wc -c`, 1,000 small files
# written and read back. Prints the median wall time of each in milliseconds, and each clearvm's
# over chroot's. Every run must exit 0 and print what chroot's printed (the same count of
# files, the same bytes of tar), or the bench prints no figure at all.
#
#   bench/fs-bench.sh [--rounds N] BUILD_DIR [NAME=BUILD_DIR...]
#
# The first build's columns are named 9p and virtiofs (its --fs); each NAME=BUILD_DIR adds a
# column of that build with its default (say, one whose guest mounts the root another way).
#
# Run it where clearvm has a KVM (tests/with-kvm -- bench/fs-bench.sh ...), as root (chroot).
set -uo pipefail
rounds=5
if [ "${1:-}" = --rounds ]; then rounds=$2; shift 2; fi
declare -A builds
builds[9p]=$(cd "${1:?usage: $0 [--rounds N] BUILD_DIR [NAME=BUILD_DIR...]}" && pwd)
builds[virtiofs]=${builds[9p]}
ways=(chroot 9p virtiofs)
shift
for nb in "$@"; do
	builds[${nb%%=*}]=$(cd "${nb#*=}" && pwd) || exit 2
	ways+=("${nb%%=*}")
done
here=$(cd "$(dirname "$0")" && pwd)
die() {
	echo "fs-bench: $*; no figures printed" >&2
	exit 1
}
tar=$("$here/../tests/tools/debian-rootfs.sh" --cached) || die "no Debian rootfs (run tests/tools/debian-rootfs.sh)"
# On a local tmpfs (in the test bed, its own: /tmp there is the host's over 9p, which both
# ways would pay for).
work=$(mktemp -d /dev/shm/clearvm-fs-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir "$root" && tar -C "$root" -xf "$tar" || die "unpacking $tar"
results=$work/results

workloads=(python true find tar files)
command_of() {
	case "$1" in
	python) echo 'python3 -c pass' ;;
	true) echo '/bin/true' ;;
	find) echo 'find /usr /etc /var -xdev | wc -l' ;; # not /: a VM's /dev, /run and /tmp are its own
	tar) echo 'tar -c /usr 2>/dev/null | wc -c' ;;
	files) echo 'mkdir /root/w && for i in $(seq 1000); do echo $i > /root/w/$i; done && cat /root/w/* | wc -l; rm -rf /root/w' ;;
	esac
}
run_in() { # WAY COMMAND: its stdout
	if [ "$1" = chroot ]; then
		chroot "$root" /bin/sh -c "$2"
		return
	fi
	local b=${builds[$1]} fs=()
	case "$1" in 9p | virtiofs) fs=(--fs "$1") ;; esac
	CLEARVM_TEMPLATE_DIR=$work/templates.$1 "$b/clearvm" --kernel "$b/vmlinux" --initramfs "$b/initramfs.cpio" \
		"${fs[@]}" --network none --rootfs "$root" -- /bin/sh -c "$2"
}
# The expected output of each workload: chroot's, once, before any timing; a warm-up run of
# each way (clearvm's first run makes the template).
for w in "${workloads[@]}"; do
	run_in chroot "$(command_of "$w")" > "$work/expect.$w" || die "chroot $w exited $?"
done
for way in "${ways[@]}"; do run_in "$way" /bin/true || die "$way warm-up exited $?"; done
for ((r = 0; r < rounds; r++)); do
	for w in "${workloads[@]}"; do
		for way in "${ways[@]}"; do
			t0=$(date +%s%N)
			run_in "$way" "$(command_of "$w")" > "$work/out" || die "$way $w exited $?"
			t1=$(date +%s%N)
			cmp -s "$work/out" "$work/expect.$w" ||
				die "$way $w printed $(head -c 80 "$work/out") where chroot printed $(head -c 80 "$work/expect.$w")"
			echo "$way $w $(((t1 - t0) / 1000000))" >> "$results"
		done
	done
done
python3 - "$results" "$rounds" "${ways[@]}" <<'PY'
import statistics, sys
path, rounds, ways = sys.argv[1], sys.argv[2], sys.argv[3:]
t = {}
for line in open(path):
    way, w, ms = line.split()
    t.setdefault((way, w), []).append(int(ms))
print(f"fs-bench: median ms of {rounds} rounds, a Debian 12 userland")
vms = ways[1:]
print("| workload | " + " | ".join(ways) + " | " + " | ".join(f"{v} / chroot" for v in vms) + " |")
print("|---|" + "---|" * (len(ways) + len(vms)))
for w in ["python", "true", "find", "tar", "files"]:
    m = {way: statistics.median(t[(way, w)]) for way in ways}
    print(f"| {w} | " + " | ".join(f"{m[way]:.0f}" for way in ways) + " | " +
          " | ".join(f"{m[v] / max(m['chroot'], 1):.1f}x" for v in vms) + " |")
PY
