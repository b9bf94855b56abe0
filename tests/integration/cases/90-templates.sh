# SPDX-License-Identifier: Apache-2.0
# Templates and the boot benchmark.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# Templates (run once, by the template pass): the first run for a set of inputs builds one,
# later runs start from it with their own randomness and the host's time; concurrent first
# runs build one; changed inputs or a damaged template are never restored.
if [ -z "${CLEARVM_TEST_COLD:-}" ]; then
	tdir=$(mktemp -d /dev/shm/clearvm-tpl.XXXXXX)
	tpl() { cvm --template-dir "$tdir" --stats-json "$work/$1.json" "${@:2}"; }
	path_of() { sed -n 's/^ *"path": *"\(.*\)",*$/\1/p' "$work/$1.json"; }
	tpl t1 --rootfs "$root" -- /bin/true; rc=$?
	check "the first run builds the template ($(path_of t1), status $rc)" test "$(path_of t1)/$rc" = template-built/0
	check "one template, memory and state, in the directory" \
		test "$(ls "$tdir"/*.mem | wc -l)/$(ls "$tdir"/*.state | wc -l)" = 1/1
	rand='head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; date +%s'
	tpl t2 --rootfs "$root" -- /bin/sh -c "$rand" > "$work/r1"; rc=$?
	host_now=$(date +%s)
	tpl t3 --rootfs "$root" -- /bin/sh -c "$rand" > "$work/r2"
	check "the next runs start from it ($(path_of t2), $(path_of t3), status $rc)" \
		test "$(path_of t2)/$(path_of t3)/$rc" = template/template/0
	check "two containers from one template read different random bytes" \
		sh -c "[ \"\$(head -c 64 $work/r1)\" != \"\$(head -c 64 $work/r2)\" ] && [ \$(head -1 $work/r1 | wc -c) = 65 ]"
	guest_now=$(sed -n 2p "$work/r1")
	check "a restored guest's clock is the host's (guest $guest_now, host $host_now)" \
		test "${guest_now:-0}" -ge $((host_now - 3)) -a "${guest_now:-0}" -le $((host_now + 1))
	tdir2=$(mktemp -d /dev/shm/clearvm-tpl.XXXXXX)
	for i in 1 2 3; do
		cvm --template-dir "$tdir2" --stats-json "$work/c$i.json" --rootfs "$root" -- /bin/true &
	done
	wait
	check "three first runs at once build one template, and all start from it" \
		test "$(cat "$work"/c[123].json | grep -Ec '"path": *"template-built"')/$(cat "$work"/c[123].json | grep -Ec '"path": *"template"')/$(ls "$tdir2"/*.mem | wc -l)" = 1/2/1
	cp "$build/vmlinux" "$work/vmlinux.new"
	"$build/clearvm" --kernel "$work/vmlinux.new" --initramfs "$build/initramfs.cpio" --timeout 120 \
		--template-dir "$tdir" --stats-json "$work/t4.json" --rootfs "$root" -- /bin/true; rc=$?
	check "a changed kernel is not restored from the old template: a new one is built ($(path_of t4), $rc)" \
		test "$(path_of t4)/$rc/$(ls "$tdir"/*.mem | wc -l)" = template-built/0/2
	truncate -s 100 "$tdir"/*.state
	tpl t5 --rootfs "$root" -- /bin/true; rc=$?
	check "a damaged template is built again, never used ($(path_of t5), $rc)" test "$(path_of t5)/$rc" = template-built/0
	tpl t6 --no-template --rootfs "$root" -- /bin/true; rc=$?
	check "--no-template boots cold ($(path_of t6), $rc)" test "$(path_of t6)/$rc" = cold/0
	cvm --template-dir /proc/no-such-dir --stats-json "$work/t7.json" --rootfs "$root" -- /bin/true; rc=$?
	check "a template directory that cannot be made: a cold boot that works ($(path_of t7), $rc)" \
		test "$(path_of t7)/$rc" = cold/0
	CLEARVM_TEST_RESTORE_FAILURE=1 tpl t9 --rootfs "$root" -- /bin/sh -c 'echo ran; exit 5' > "$work/out" 2> "$work/err"; rc=$?
	check "a template that loads but cannot be restored: the run boots cold ($(path_of t9), $rc, $(cat "$work/out"))" \
		test "$(path_of t9)/$rc/$(cat "$work/out")" = cold/5/ran
	check "and says nothing of it on stderr" test ! -s "$work/err"
	tpl t8 --memory 1536 --rootfs "$root" -- /bin/sh -c 'exit 6'; rc=$?
	check "a 1.5 GiB VM from its template: its RAM counts in the VMM's memory limit ($(path_of t8), $rc)" \
		test "$(path_of t8)/$rc" = template-built/6
	# The CPU KVM offers is part of the key: kvm_amd reloaded with nested virtualization the
	# other way offers another CPUID (the SVM bit), and a template saved before is not used.
	# (The test bed's modules are in its initramfs, PID 1's root.)
	kvm_amd_ko=/proc/1/root/modules/kvm-amd.ko
	if [ -n "${CLEARVM_IN_TESTBED:-}" ] && [ -e /sys/module/kvm_amd/parameters/nested ] && [ -f "$kvm_amd_ko" ]; then
		nested=$(cat /sys/module/kvm_amd/parameters/nested)
		other=$([ "$nested" = 1 ] && echo 0 || echo 1)
		rmmod kvm_amd && insmod "$kvm_amd_ko" nested="$other" && chmod 0666 /dev/kvm
		check "(kvm_amd reloaded with nested=$other)" test "$(cat /sys/module/kvm_amd/parameters/nested)" = "$other"
		tpl t10 --rootfs "$root" -- /bin/true; rc=$?
		rmmod kvm_amd && insmod "$kvm_amd_ko" nested="$nested" && chmod 0666 /dev/kvm
		tpl t11 --rootfs "$root" -- /bin/true; rc2=$?
		check "a KVM offering another CPU (kvm_amd nested=$other) builds a template of its own ($(path_of t10), $rc)" \
			test "$(path_of t10)/$rc" = template-built/0
		check "and the first one serves again once it is back ($(path_of t11), $rc2)" test "$(path_of t11)/$rc2" = template/0
	else
		skip "a KVM offering another CPU builds a template of its own" "reloads kvm_amd: only in the test bed"
	fi
	rm -rf "$tdir" "$tdir2"
fi

# clearvm-bench times only runs that did what they were asked: every run, cold ones too, ran
# the command (each appends a line to a file in the rootfs), or it prints no figure at all.
if [ -z "${CLEARVM_TEST_COLD:-}" ]; then
	rm -f "$root/bench-ran"
	before=$(ls -d /tmp/clearvm-bench.* /dev/shm/clearvm-bench.* 2> /dev/null)
	"$build/clearvm-bench" --runs 2 --compare cold --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- /bin/sh -c 'echo x >> /bench-ran' > "$work/out" 2> "$work/err"; rc=$?
	check "clearvm-bench --runs 2 --compare cold: 5 runs ran the command (template build, 2, 2 cold: $(wc -l < "$root/bench-ran" 2>/dev/null), status $rc)" \
		test "$(wc -l < "$root/bench-ran" 2>/dev/null)/$rc" = 5/0
	check "and it printed figures" grep -q 'p50' "$work/out"
	"$build/clearvm-bench" --runs 1 --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- /bin/sh -c 'exit 3' > "$work/out" 2> "$work/err"; rc=$?
	check "a run that ends with another status than expected: no figures, an error (got $rc)" \
		test $rc != 0 -a -z "$(grep p50 "$work/out")" -a -n "$(grep 'no figures' "$work/err")"
	check "and the bench leaves no directory behind" \
		test "$(ls -d /tmp/clearvm-bench.* /dev/shm/clearvm-bench.* 2> /dev/null)" = "$before"
	"$build/clearvm-bench" --runs 1 --expect-status 3 --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" \
		--rootfs "$root" -- /bin/sh -c 'exit 3' > "$work/out" 2> "$work/err"; rc=$?
	check "--expect-status 3 accepts it (got $rc)" test $rc = 0
	rm -f "$root/bench-ran"
fi
