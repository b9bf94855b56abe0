# SPDX-License-Identifier: Apache-2.0
# Guests that misbehave: an init that hangs or exits, and hostile guests that fault, flood
# the virtio registers or corrupt their queues.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

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

# Hostile guests (tests/tools/badguest.S): each ends with 125 and a reason, or, when clearvm
# survives what it did, with the status it reports; many in a row leave nothing behind. Booted
# cold: they never reach a template point, and building templates of them is where the test
# bed froze (3 of 4 runs of this group with templates, 0 of 4 without).
bad() { "$build/clearvm" --kernel "$build/tests/badguest-$1" --initramfs "$build/initramfs.cpio" \
	--rootfs "$root" --timeout "${2:-60}" --no-template -- /bin/true; }
# (/tmp is the host's, shared with the suites running beside this one: their scratch
# directories come and go.)
leftovers() {
	ls -d /tmp/clearvm* /dev/shm/* 2>/dev/null | grep -vxF "${CLEARVM_TEMPLATE_DIR:-/none}" |
		grep -v '^/tmp/clearvm-scratch\.\|^/tmp/clearvm-kvm-host\.' | sort
}
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
