# SPDX-License-Identifier: Apache-2.0
# The machine: vCPUs and memory as asked, the boot trace, the console's notifies, and free
# page reporting.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# SMP really boots every vCPU.
out=$(cvm --rootfs "$root" --cpus 2 -- /bin/sh -c 'grep -c ^processor /proc/cpuinfo')
check "--cpus 2 gives the guest 2 online CPUs (got $out)" test "$out" = 2
out=$(cvm --rootfs "$root" --memory 128 -- /bin/sh -c "awk '/MemTotal/{print \$2}' /proc/meminfo")
check "--memory 128 gives the guest about 128 MiB (got ${out} KiB)" test "${out:-0}" -gt 100000 -a "${out:-0}" -le 131072

# --boot-trace and --stats-json: every phase reached, in order, on one clock; exits counted.
cvm --rootfs "$root" --boot-trace --stats-json "$work/stats.json" -- /bin/sh -c 'exit 5' 2> "$work/err"; rc=$?
check "a traced run keeps the command's status (5, got $rc)" test $rc = 5
phases="start options_parsed vm_created kernel_loaded first_kvm_run guest_init root_mounted workload_exec workload_exited clearvm_exit"
times=$(for p in $phases; do sed -n "s/^ *\"$p\": *\([0-9.]*\),*$/\1/p" "$work/stats.json"; done)
check "--stats-json has a time for each of the 10 phases" test "$(echo "$times" | grep -c .)" = 10
check "and they are in order" test "$(echo "$times" | sort -g | tr '\n' ' ')" = "$(echo "$times" | tr '\n' ' ')"
mmio=$(sed -n 's/^ *"mmio": *\([0-9]*\),*$/\1/p' "$work/stats.json")
check "exits are counted (MMIO > 0, got $mmio)" test "${mmio:-0}" -gt 0
# The console's receive queues ask for no notify while nothing waits for a buffer: without
# that, posting them costs one MMIO exit each (about 1,700 in all instead of about 400).
check "a short run takes fewer than 800 MMIO exits (got $mmio)" test "${mmio:-0}" -lt 800
check "the status is recorded" grep -Eq '"status": *5' "$work/stats.json"
fs_requests() { sed -n 's/^ *"fs_requests": *\([0-9]*\),*$/\1/p' "$1"; }
few=$(fs_requests "$work/stats.json")
cvm --rootfs "$root" --stats-json "$work/stats2.json" -- /bin/sh -c 'for f in /bin/*; do [ -e "$f" ]; done'
many=$(fs_requests "$work/stats2.json")
check "file server requests are counted: $few for sh -c 'exit 5', $many for a stat of each file in /bin" \
	test "${few:-0}" -gt 0 -a "${many:-0}" -gt $((${few:-0} + $(ls "$root/bin" | wc -l)))

# Free page reporting: 160 MiB the workload touched and freed is handed back to the host (the
# guest reports free 4 MiB blocks 2 s after they are freed), so it is not resident at the end.
cvm --rootfs "$root" -m 512 --stats-json "$work/stats.json" -- \
	/bin/sh -c 'dd if=/dev/zero of=/dev/null bs=160M count=1 2>/dev/null; sleep 8'
pages=$(sed -n 's/^ *"guest_pages_touched": *\([0-9]*\),*$/\1/p' "$work/stats.json")
check "freed guest memory is given back: $((${pages:-0} / 256)) MiB resident at the end, under 100" \
	test "${pages:-999999}" -lt $((100 * 256))
check "and the guest reported it" grep -Eq '"guest_reported_bytes": *[1-9]' "$work/stats.json"
check "--boot-trace prints the table on stderr" grep -q "workload exec'd" "$work/err"
if [ -n "${CLEARVM_TEST_COLD:-}" ]; then
	check "--no-template: the trace says cold" grep -Eq '"path": *"cold"' "$work/stats.json"
else
	check "the trace says the run started from a template" grep -Eq '"path": *"template(-built)?"' "$work/stats.json"
fi
