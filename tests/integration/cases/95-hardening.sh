# SPDX-License-Identifier: Apache-2.0
# Hardening: seccomp per thread role, privileges dropped once the VM is built, and escapes
# tried from inside the guest.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

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
# Its root is shared over virtio-fs and its volume over 9p: both servers are looked at.
cvm --fs virtiofs --rootfs "$root" -v "$work/vol:/vol:ro" -- /bin/sh -c \
	'echo ready; until [ -e /vol/done ]; do sleep 0.1; done; echo released' 7< "$work/inherited" > "$work/live" &
bg=$!
check "(the workload of the live clearvm runs)" wait_until 100 grep -qx ready "$work/live"
vmm=$(pgrep -x clearvm -P $bg 2>/dev/null || pgrep -nx clearvm)
status=$(cat /proc/$vmm/status 2>/dev/null)
servers=$(grep -lxE 'clearvm-(9p|fs)' /proc/$vmm/task/*/comm 2>/dev/null | xargs -r dirname)
others=$(grep -LxE 'clearvm-(9p|fs)' /proc/$vmm/task/*/comm 2>/dev/null | xargs -r dirname)
check "one file server thread per share (root and volume: $(wc -w <<< "$servers"))" test "$(wc -w <<< "$servers")" = 2
check "the root's is virtio-fs's, the volume's 9p's" \
	test "$(cat /proc/$vmm/task/*/comm | grep -E 'clearvm-(9p|fs)' | sort | tr '\n' ' ')" = "clearvm-9p clearvm-fs "

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

# Escapes tried from inside the guest, over each file system: device nodes, a symlink swapped
# in while the guest walks the path, and more open files than the file server keeps fids or
# handles for.
for fs in 9p virtiofs; do
	out=$(cvm --fs "$fs" --rootfs "$root" -- /bin/sh -c 'mknod /blockdev b 8 0; echo b=$?; mknod /chardev c 1 3; echo c=$?; touch /plain; echo f=$?' 2> /dev/null)
	check "$fs: (the VM ran: a file is made, the device nodes are refused: $(echo $out))" test "$(echo $out)" = "b=1 c=1 f=0"
	check "$fs: mknod of block and char devices fails and leaves nothing on the host" \
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
	# The guest drops its dentries each time round, so that virtio-fs (whose guest may keep
	# them) looks the names up again as 9p does. Twice: a dentry used since the last drop is
	# only marked by the first, and with little else to free the kernel stops there (seen:
	# after a few rounds the guest kept its first answer for "d" for all the 400).
	out=$(cvm --fs "$fs" --rootfs "$root" -- /bin/sh -c 'i=0; while [ $i -lt 400 ]; do cat /race/d/f /race/d/../d/f 2>/dev/null; echo 2 > /proc/sys/vm/drop_caches; echo 2 > /proc/sys/vm/drop_caches; i=$((i+1)); done')
	touch "$work/race-done"
	wait $swapper
	check "$fs: a directory swapped for a symlink to the host while the guest walks it: never the host's file" \
		test -z "$(grep host-only <<< "$out")"
	check "$fs: (the guest did read through the directory: $(grep -c inside <<< "$out") times)" grep -q inside <<< "$out"
	mkdir -p "$root/many" && for i in $(seq 0 999); do : > "$root/many/f$i"; done
	cp "$build/tests/fsprobe" "$root/fsprobe"
	out=$(cvm --fs "$fs" --rootfs "$root" -- /bin/sh -c 'for p in 1 2 3 4 5; do /fsprobe fids /many & done; wait; cat /race/dir/f')
	opened=$(( $(sed -n 's/^opened //p' <<< "$out" | paste -sd+ -) + 0 ))
	# Each open file costs the server a fid (9p) or a handle (virtio-fs): 4,096 at most.
	check "$fs: 5,000 files held open at once run into the file server's limits (opened ${opened:-?})" \
		test "${opened:-5000}" -lt 5000 -a "${opened:-0}" -gt 500
	check "$fs: and it goes on serving once they are closed" test "$(tail -1 <<< "$out")" = inside
	rm -rf "$root/many" "$root/race" "$root/fsprobe"
	rm -f "$work/race-done"
done
