#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# oci-bench: what running a container through podman with clearvm as its OCI runtime costs,
# side by side in each round with podman on crun (Debian's, the same image) and with clearvm
# run directly on the same rootfs:
#   podman-clearvm   `podman run --rm --network none IMAGE /bin/true`, runtime clearvm
#   podman-crun      the same with --runtime crun
#   clearvm-rootfs   `clearvm --network none --rootfs ROOTFS -- /bin/true`
#   create, start    clearvm's own `create` and `start` within the podman-clearvm runs (ms,
#                    from the runtime wrapper's clock)
#   exec-clearvm     `podman exec ID /bin/true` into a running container, runtime clearvm
#   exec-crun        the same into a running container on crun
#   pod-clearvm      `podman run --rm --pod POD IMAGE /bin/true` into a running pod (on podman's
#                    network), runtime clearvm: the container runs in the pod's VM, no VM starts
#                    (no crun twin: podman 4.3's pod cgroup, cgroupfs on cgroup v2, allows no
#                    device, and crun's mknod of /dev/null there fails)
# Every run must exit 0, or no figure is printed. One warm-up run of each first (clearvm's
# template is built there). Figures: p50 (min-max) in ms.
#
#   bench/oci-bench.sh [--rounds N] BUILD ROOTFS
#
# Run it where clearvm has a KVM (tests/with-kvm -- ...); podman's storage goes to a tmpfs.
set -uo pipefail
rounds=10
usage="usage: oci-bench.sh [--rounds N] BUILD ROOTFS"
if [ "${1:-}" = --rounds ]; then rounds=$2; shift 2; fi
build=${1:?$usage} rootfs=${2:?$usage}
command -v podman > /dev/null && command -v crun > /dev/null || { echo "oci-bench: needs podman and crun (./setup.sh)" >&2; exit 1; }
work=$(mktemp -d /dev/shm/clearvm-oci-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
die() { echo "oci-bench: $*; no figures printed" >&2; exit 1; }
if [ -n "${CLEARVM_IN_TESTBED:-}" ] && ! mountpoint -q /var/cache; then
	mount -t tmpfs tmpfs /var/cache && mkdir -p /var/cache/containers
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup # crun needs it
	mountpoint -q /var/lib/cni || mount -t tmpfs tmpfs /var/lib/cni # the pods' network's state
	mountpoint -q /var/tmp || mount -t tmpfs tmpfs /var/tmp # podman builds its pause image there
fi
# The runtime podman runs: clearvm with this build's files, timing its create and start.
cat > "$work/clearvm-runtime" <<EOF2
#!/bin/sh
export CLEARVM_KERNEL=$build/vmlinux CLEARVM_INITRAMFS=$build/initramfs.cpio CLEARVM_TEMPLATE_DIR=$work/templates
case " \$* " in *" create "*|*" start "*) t0=\$(date +%s%N); $build/clearvm "\$@"; rc=\$?
	echo "\$(echo " \$* " | grep -o ' create \| start ' | tr -d ' ') \$(( (\$(date +%s%N) - t0) / 1000 ))" >> $work/phases
	exit \$rc ;; esac
exec $build/clearvm "\$@"
EOF2
chmod +x "$work/clearvm-runtime"
# The same without the timing, for the pods' runs (their create and start are not the ones timed).
printf '#!/bin/sh\nexport CLEARVM_KERNEL=%s CLEARVM_INITRAMFS=%s CLEARVM_TEMPLATE_DIR=%s\nexec %s "$@"\n' \
	"$build/vmlinux" "$build/initramfs.cpio" "$work/templates" "$build/clearvm" > "$work/clearvm-pod-runtime"
chmod +x "$work/clearvm-pod-runtime"
P=(env TMPDIR="$work" podman --root "$work/root" --runroot "$work/run" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --tmpdir "$work/tmp")
trap '"${P[@]}" pod rm -f -a > /dev/null 2>&1; "${P[@]}" rm -f -t 0 -a > /dev/null 2>&1; rm -rf "$work"' EXIT # the exec targets and pods too
tar -C "$rootfs" -c . | "${P[@]}" import -q - clearvm-bench > /dev/null || die "podman import failed"
export CLEARVM_TEMPLATE_DIR=$work/templates
# The containers exec goes into, one per runtime, running until the end.
declare -A into
into[clearvm]=$("${P[@]}" --runtime "$work/clearvm-runtime" run -d --network none clearvm-bench /bin/sleep 100000) ||
	die "podman run -d (clearvm) failed"
into[crun]=$("${P[@]}" --runtime crun run -d --network none clearvm-bench /bin/sleep 100000) ||
	die "podman run -d (crun) failed"
# The pod the pod runs go into (its infra starts with the first run).
"${P[@]}" --runtime "$work/clearvm-pod-runtime" pod create --name bench-clearvm > /dev/null 2>> "$work/stderr" ||
	die "podman pod create failed ($(tail -1 "$work/stderr"))"
run() { # run NAME: one timed run, its duration in µs appended to $work/NAME
	local t0 rc
	t0=$(date +%s%N)
	case "$1" in
	podman-clearvm) "${P[@]}" --runtime "$work/clearvm-runtime" run --rm --network none clearvm-bench /bin/true ;;
	podman-crun) "${P[@]}" --runtime crun run --rm --network none clearvm-bench /bin/true ;;
	exec-clearvm) "${P[@]}" exec "${into[clearvm]}" /bin/true ;;
	exec-crun) "${P[@]}" exec "${into[crun]}" /bin/true ;;
	pod-clearvm) "${P[@]}" --runtime "$work/clearvm-pod-runtime" run --rm --pod bench-clearvm clearvm-bench /bin/true ;;
	clearvm-rootfs) "$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--network none --rootfs "$rootfs" -- /bin/true ;;
	esac > /dev/null 2>> "$work/stderr"
	rc=$?
	[ $rc = 0 ] || die "$1 exited $rc ($(tail -1 "$work/stderr"))"
	echo $(( ($(date +%s%N) - t0) / 1000 )) >> "$work/$1"
}
names=(podman-clearvm podman-crun clearvm-rootfs exec-clearvm exec-crun pod-clearvm)
for n in "${names[@]}"; do run "$n"; rm -f "$work/$n"; done # warm-up
rm -f "$work/phases"
for ((r = 0; r < rounds; r++)); do
	for n in "${names[@]}"; do run "$n"; done
done
for p in create start; do grep "^$p " "$work/phases" | cut -d' ' -f2 > "$work/$p"; done
[ "$(wc -l < "$work/create")" = "$rounds" ] && [ "$(wc -l < "$work/start")" = "$rounds" ] ||
	die "the runtime's create and start were not each timed once per run"
echo "oci-bench: $rounds rounds, /bin/true, ms: p50 (min-max)"
for n in "${names[@]}" create start; do
	sort -n "$work/$n" | awk -v name="$n" '{v[NR] = $1} END {
		printf "%-16s %8.1f (%.1f-%.1f)\n", name, v[int((NR + 1) / 2)] / 1000, v[1] / 1000, v[NR] / 1000 }'
done
