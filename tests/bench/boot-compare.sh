#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Boot latency, clearvm against QEMU microvm with the same kernel, initramfs, launch spec,
# memory and rootfs (virtio-9p root, virtio-serial stdout/stderr ports, an exit port), each
# running sh -c 'exit 7', alternating, N rounds. Prints per-run wall times and medians. Needs a KVM
# that runs guests: run it through tests/with-kvm. Never part of pass/fail.
# Usage: boot-compare.sh BUILD_DIR [ROUNDS]
set -euo pipefail
build=$(cd "$1" && pwd)
rounds=${2:-5}
mem=256
work=$(mktemp -d "${TMPDIR:-/tmp}/clearvm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The same launch spec guest-init reads from clearvm, written as device tree source.
mkdir -p "$work/spec/clearvm"
cat > "$work/spec.dts" <<'DTS'
/dts-v1/;
/ {
	argv = "/bin/sh", "-c", "exit 7";
	env = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root";
	cwd = "/";
	uid = <0>;
	gid = <0>;
	hostname = "clearvm";
	root-tag = "clearvm-root";
};
DTS
dtc -q -I dts -O dtb -o "$work/spec/clearvm/spec.dtb" "$work/spec.dts"
(cd "$work/spec" && find clearvm | cpio -o -H newc --quiet) > "$work/spec.cpio"
cat "$build/initramfs.cpio" "$work/spec.cpio" > "$work/initrd"

now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

run_clearvm() {
	"$build/clearvm" --timeout 120 --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--memory $mem --rootfs "$build/rootfs" -- /bin/sh -c 'exit 7' || [ $? = 7 ]
}
run_qemu() {
	# isa-debug-exit makes QEMU exit with (status << 1) | 1 when guest-init reports: the
	# workload's 7 becomes 15, which no QEMU error exit is.
	local rc=0
	timeout 120 qemu-system-x86_64 -M microvm,x-option-roms=off,pit=off,pic=off,rtc=off,acpi=off -serial null \
		-accel kvm -cpu host -m $mem -smp 1 -nodefaults -no-user-config -display none \
		-kernel "$build/vmlinux" -initrd "$work/initrd" \
		-append "quiet reboot=t panic=-1 rdinit=/init" \
		-fsdev "local,id=root,path=$build/rootfs,security_model=none" \
		-device virtio-9p-device,fsdev=root,mount_tag=clearvm-root \
		-device virtio-serial-device \
		-chardev file,id=o,path=/dev/null -device virtserialport,chardev=o,name=stdout \
		-chardev file,id=e,path=/dev/null -device virtserialport,chardev=e,name=stderr \
		-chardev null,id=c -device virtserialport,chardev=c,name=control \
		-device isa-debug-exit,iobase=0x5f0,iosize=4 || rc=$?
	[ $rc = 15 ] || { echo "qemu: exit $rc, not the workload's 7" >&2; return 1; }
}

c=() q=()
for i in $(seq "$rounds"); do
	t0=$(now); run_clearvm; t1=$(now)
	run_qemu; t2=$(now)
	c+=("$(ms "$t0" "$t1")") q+=("$(ms "$t1" "$t2")")
	echo "round $i: clearvm ${c[-1]} ms, qemu microvm ${q[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc=$(median "${c[@]}") mq=$(median "${q[@]}")
echo "median: clearvm $mc ms, qemu microvm $mq ms, ratio clearvm/qemu $(awk "BEGIN{printf \"%.2f\", $mc/$mq}")"
