# SPDX-License-Identifier: Apache-2.0
# clearvm as an OCI runtime (create, start, state, kill, delete), driven as an engine drives
# runc: oci-engine.py is the subreaper that creates, starts and reaps the container's process.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# The state root on a local file system, as /run/clearvm is (exec.fifo is a FIFO: the test
# bed's /tmp is the host's, shared over 9p, where a FIFO does not connect).
oroot=$(mktemp -d /dev/shm/clearvm-oci.XXXXXX)
engine=$here/oci-engine.py
export CLEARVM_KERNEL=$build/vmlinux CLEARVM_INITRAMFS=$build/initramfs.cpio
# bundle DIR ARGS_JSON [PROCESS_EXTRA [TOP_EXTRA]]: config.json for $root, loopback only (a new
# network namespace), the guest's own /proc, /dev, /dev/pts and /sys, as podman lists them.
bundle() {
	mkdir -p "$1"
	cat > "$1/config.json" <<-JSON
	{"ociVersion": "1.0.2", "root": {"path": "$root"}, "hostname": "ocibox",
	 "process": {"args": $2, "env": ["PATH=/usr/bin:/bin", "FOO=bar"], "cwd": "/"${3:+, $3}},
	 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
	            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
	            {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
	            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]}],
	 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}]}${4:+, $4}}
	JSON
}
oci() { "$build/clearvm" --root "$oroot" "$@"; }
# state_is ID FIELD VALUE: `clearvm state ID` prints "FIELD": VALUE (VALUE as JSON).
state_is() { oci state "$1" | grep -qF "\"$2\": $3"; }

# A run: create, start, the status, stdout and stderr of the workload, exactly.
bundle "$work/b1" '["/bin/sh", "-c", "echo out; echo err >&2; exit 7"]'
"$engine" "$build/clearvm" "$oroot" "$work/b1" c1 "$work/c1.pid" > "$work/out" 2> "$work/err"; rc=$?
check "an OCI container's exit status comes back (7, got $rc)" test $rc = 7
check "its stdout" test "$(cat "$work/out")" = out
check "its stderr" test "$(cat "$work/err")" = err
check "the state says stopped once it ended" state_is c1 status '"stopped"'
oci delete c1
check "delete removes its state" test ! -e "$oroot/c1"
oci state c1 2> "$work/err"; rc=$?
check "state of a deleted container: 1 and one line (got $rc)" test $rc = 1 -a "$(wc -l < "$work/err")" = 1

# process.env, cwd, user (uid, gid, exactly the additionalGids) and the hostname.
bundle "$work/b2" '["/bin/sh", "-c", "echo $FOO $(pwd) $(id -u) $(id -g) $(id -G) $(hostname)"]' \
	'"user": {"uid": 1000, "gid": 1001, "additionalGids": [5, 7]}, "cwd": "/tmp"'
"$engine" "$build/clearvm" "$oroot" "$work/b2" c2 "$work/c2.pid" > "$work/out" 2> "$work/err"; rc=$?
check "env, cwd, uid, gid, additional groups and hostname from config.json (got: $(cat "$work/out" "$work/err" | tr "\n" " "))" \
	test "$(cat "$work/out")" = "bar /tmp 1000 1001 1001 5 7 ocibox"
oci delete c2

# process.rlimits and noNewPrivileges reach the workload; without them, the guest's defaults.
limits='["/bin/sh", "-c", "echo $(ulimit -n) $(ulimit -Hn) $(grep NoNewPrivs /proc/self/status)"]'
bundle "$work/b12" "$limits" '"rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 1024}], "noNewPrivileges": true'
bundle "$work/b13" "$limits"
"$engine" "$build/clearvm" "$oroot" "$work/b12" c12 "$work/c12.pid" > "$work/out" 2> "$work/err"
"$engine" "$build/clearvm" "$oroot" "$work/b13" c13 "$work/c13.pid" > "$work/out13" 2> "$work/err"
check "rlimits and noNewPrivileges applied (got: $(cat "$work/out"))" test "$(cat "$work/out")" = "1000 1024 NoNewPrivs: 1"
check "(and not without them: got $(cat "$work/out13"))" sh -c "grep -q 'NoNewPrivs: 0' '$work/out13' && ! grep -q '^1000 ' '$work/out13'"
oci delete c12
oci delete c13

# Hooks on the host, each with the state on its stdin: createRuntime at create, poststart at
# start, poststop at delete; a failing createRuntime hook fails create and leaves nothing.
hook() { echo '{"path": "/bin/sh", "args": ["sh", "-c", "cat > '"$work/hook-$1"'"]}'; }
bundle "$work/b14" '["/bin/true"]' '' "\"hooks\": {\"createRuntime\": [$(hook create)], \"poststart\": [$(hook start)], \"poststop\": [$(hook stop)]}"
"$engine" "$build/clearvm" "$oroot" "$work/b14" c14 "$work/c14.pid" > "$work/out" 2> "$work/err"; rc=$?
check "a container with hooks runs (0, got $rc: $(cat "$work/err"))" test $rc = 0
check "createRuntime ran at create with the state (created, its VMM's pid)" \
	sh -c "grep -q '\"id\": \"c14\"' '$work/hook-create' && grep -q '\"status\": \"created\"' '$work/hook-create' && grep -q '\"pid\": $(cat "$work/c14.pid")' '$work/hook-create'"
check "poststart ran at start" grep -q '"id": "c14"' "$work/hook-start"
check "poststop has not run before delete" test ! -e "$work/hook-stop"
oci delete c14
check "poststop ran at delete, the container stopped" grep -q '"status": "stopped"' "$work/hook-stop"
bundle "$work/b15" '["/bin/true"]' '' '"hooks": {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no-go; exit 3"]}]}'
oci create --bundle "$work/b15" --pid-file "$work/c15.pid" c15 2> "$work/err"; rc=$?
check "a failing createRuntime hook fails create: 1 and one line with its status and output (got $rc: $(cat "$work/err"))" \
	sh -c "test $rc = 1 && test \$(wc -l < '$work/err') = 1 && grep -q 'hooks.createRuntime.0. /bin/sh: exited 3: no-go' '$work/err'"
check "and leaves no state" test ! -e "$oroot/c15"
check "nor a VMM" sh -c "! pgrep -f '[c]learvm.*create --bundle .*/b15' > /dev/null"

# The annotation io.clearvm.fs chooses how the root is shared, as --fs does; virtio-fs by default.
rootfs_type='["/bin/sh", "-c", "cut -d\" \" -f2,3 /proc/mounts | grep \"^/ \""]'
bundle "$work/b20" "$rootfs_type"
bundle "$work/b21" "$rootfs_type" '' '"annotations": {"io.clearvm.fs": "9p"}'
"$engine" "$build/clearvm" "$oroot" "$work/b20" c20 "$work/c20.pid" > "$work/out20" 2> "$work/err"
"$engine" "$build/clearvm" "$oroot" "$work/b21" c21 "$work/c21.pid" > "$work/out21" 2> "$work/err"
check "an OCI container's root is shared over virtio-fs by default (got: $(cat "$work/out20"))" \
	test "$(cat "$work/out20")" = "/ virtiofs"
check "and over 9p with the annotation io.clearvm.fs=9p (got: $(cat "$work/out21"))" \
	test "$(cat "$work/out21")" = "/ 9p"
oci delete c20
oci delete c21

# The life cycle: created (no user code yet) -> running -> stopped; a bind mount is shared.
mkdir -p "$work/vol"
bundle "$work/b3" '["/bin/sh", "-c", "echo ran > /vol/ran; until [ -e /vol/go ]; do sleep 0.1; done; echo done > /vol/out"]' '' \
	'"mounts": [{"destination": "/vol", "type": "bind", "source": "'"$work/vol"'", "options": ["rbind", "rw"]}]'
"$engine" "$build/clearvm" "$oroot" "$work/b3" c3 "$work/c3.pid" "$work/c3.gate" > "$work/out" 2> "$work/err" &
epid=$!
wait_until 100 test -s "$work/c3.pid"
check "after create: the state says created" state_is c3 status '"created"'
check "with the pid in the pid file" state_is c3 pid "$(cat "$work/c3.pid")"
check "and the workload has not run" test ! -e "$work/vol/ran"
touch "$work/c3.gate"
check "after start: the workload runs" wait_until 100 test -e "$work/vol/ran"
check "the state says running" state_is c3 status '"running"'
check "ps --format json: the VMM, the one host process to signal" test "$(oci ps --format json c3)" = "[$(cat "$work/c3.pid")]"
oci delete c3 2> "$work/derr"; rc=$?
check "delete of a running container without --force: 1 (got $rc)" test $rc = 1
check "and it goes on running" kill -0 "$(cat "$work/c3.pid")"
touch "$work/vol/go"
wait $epid; rc=$?
check "it ends with its own status (0, got $rc)" test $rc = 0
check "what it wrote to the bind mount is on the host" test "$(cat "$work/vol/out")" = done
oci delete c3

# kill: a signal by name reaches the workload's handler; SIGKILL ends the VM (137).
bundle "$work/b4" '["/bin/sh", "-c", "trap \"exit 3\" TERM; echo ready; sleep 100 & wait"]'
"$engine" "$build/clearvm" "$oroot" "$work/b4" c4 "$work/c4.pid" > "$work/out" 2> "$work/err" &
epid=$!
wait_until 100 grep -q ready "$work/out"
oci kill c4 SIGTERM
wait $epid; rc=$?
check "kill ID SIGTERM reaches the workload's handler (3, got $rc)" test $rc = 3
oci kill c4 TERM 2> "$work/kerr"; rc=$?
check "kill of a stopped container: 1 (got $rc)" test $rc = 1
oci delete c4
"$engine" "$build/clearvm" "$oroot" "$work/b4" c5 "$work/c5.pid" > "$work/out" 2> "$work/err" &
epid=$!
wait_until 100 grep -q ready "$work/out"
oci kill c5 9
wait $epid; rc=$?
check "kill ID 9: the container ends as SIGKILL (137, got $rc)" test $rc = 137
check "no VMM left" sh -c "! kill -0 $(cat "$work/c5.pid") 2>/dev/null"
oci delete c5

# delete --force of a running container kills its VMM and removes the state.
"$engine" "$build/clearvm" "$oroot" "$work/b4" c6 "$work/c6.pid" > "$work/out" 2> "$work/err" &
epid=$!
wait_until 100 grep -q ready "$work/out"
oci delete --force c6; rc=$?
check "delete --force of a running container: 0 (got $rc)" test $rc = 0
check "its state is gone" test ! -e "$oroot/c6"
wait $epid; rc=$?
check "and its VMM was killed (137, got $rc)" test $rc = 137

# A created container killed before start ends with the signal; nothing of it ran.
"$engine" "$build/clearvm" "$oroot" "$work/b3" c7 "$work/c7.pid" "$work/c7.gate" > "$work/out" 2> "$work/err" &
epid=$!
rm -f "$work/vol/ran"
wait_until 100 test -s "$work/c7.pid"
oci kill c7 KILL
touch "$work/c7.gate"
wait $epid; rc=$?
check "a created container killed before start: 137 (got $rc)" test $rc = 137
check "and its workload never ran" test ! -e "$work/vol/ran"
oci delete c7

# exec: processes in the running container's VM, with their own stdio, status, identity and
# signals; the host process that stands for one takes it along when it is killed.
# (In a cgroup of its own, made from linux.cgroupsPath on the test bed's cgroup2, for update.)
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
bundle "$work/b11" '["/bin/sh", "-c", "echo inside > /dev/marker; echo ready > /vol/ready; until [ -e /vol/go11 ]; do sleep 0.1; done"]' '' \
	'"mounts": [{"destination": "/vol", "type": "bind", "source": "'"$work/vol"'", "options": ["rbind", "rw"]}],
	 "linux": {"cgroupsPath": "/clearvm-it/c11", "resources": {"memory": {"limit": 268435456}}}'
"$engine" "$build/clearvm" "$oroot" "$work/b11" c11 "$work/c11.pid" > "$work/out11" 2> "$work/err11" &
epid=$!
wait_until 100 test -e "$work/vol/ready"
oci exec c11 /bin/sh -c 'echo out; echo err >&2; exit 5' > "$work/out" 2> "$work/err"; rc=$?
check "exec: its status (5, got $rc)" test $rc = 5
check "exec: its stdout and stderr (got: $(cat "$work/out" "$work/err" | tr "\n" " "))" \
	test "$(cat "$work/out")" = out -a "$(cat "$work/err")" = err
check "exec runs in the container's VM: it sees what the workload wrote to the guest's /dev" \
	test "$(oci exec c11 cat /dev/marker)" = inside
cat > "$work/process.json" <<-JSON
	{"args": ["/bin/sh", "-c", "echo \$FOO \$(pwd) \$(id -u) \$(id -g) \$(id -G)"], "env": ["PATH=/bin:/usr/bin", "FOO=baz"],
	 "cwd": "/tmp", "user": {"uid": 1000, "gid": 1001, "additionalGids": [6]}}
	JSON
check "exec --process FILE: its env, cwd, uid, gid and groups (got: $(oci exec --process "$work/process.json" c11 2>&1))" \
	test "$(oci exec --process "$work/process.json" c11)" = "baz /tmp 1000 1001 1001 6"
cat > "$work/limits.json" <<-JSON
	{"args": ["/bin/sh", "-c", "echo \$(ulimit -n) \$(ulimit -Hn) \$(grep NoNewPrivs /proc/self/status)"], "cwd": "/",
	 "user": {"uid": 1000, "gid": 1000}, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 900, "hard": 950}],
	 "noNewPrivileges": true}
	JSON
check "exec --process: its rlimits (set before it drops root) and noNewPrivileges (got: $(oci exec --process "$work/limits.json" c11 2>&1))" \
	test "$(oci exec --process "$work/limits.json" c11)" = "900 950 NoNewPrivs: 1"
check "(and an exec without them has neither: got $(oci exec c11 /bin/sh -c 'ulimit -n; grep NoNewPrivs /proc/self/status' | tr '\n' ' '))" \
	sh -c "\"$build/clearvm\" --root \"$oroot\" exec c11 /bin/sh -c 'ulimit -n; grep NoNewPrivs /proc/self/status' | tr '\n' ' ' | grep -v '^900 ' | grep -q 'NoNewPrivs:.0'"
check "exec of a missing command: 127" sh -c "\"$build/clearvm\" --root \"$oroot\" exec c11 /no/such 2>/dev/null; test \$? = 127"
"$build/clearvm" --root "$oroot" exec c11 /bin/sh -c 'trap "exit 9" TERM; echo up > /vol/up; sleep 100 & wait' &
xpid=$!
wait_until 100 test -e "$work/vol/up"
kill -TERM $xpid
wait $xpid; rc=$?
check "a signal to the exec process reaches its command's handler (9, got $rc)" test $rc = 9
oci exec --detach --pid-file "$work/x.pid" c11 /bin/sh -c 'echo $$ > /vol/up2.tmp; mv /vol/up2.tmp /vol/up2; exec sleep 100'; rc=$?
check "exec --detach returns at once (0, got $rc), the host process in --pid-file" test $rc = 0 -a -s "$work/x.pid"
wait_until 100 test -s "$work/vol/up2"
xpid=$(cat "$work/x.pid")
check "the detached host process stands for the command" kill -0 "$xpid"
check "another exec runs while the detached one does (sessions at once)" \
	timeout 60 "$build/clearvm" --root "$oroot" exec c11 /bin/sh -c "kill -0 $(cat "$work/vol/up2")"
kill -KILL "$xpid"
check "SIGKILL of the host process ends its command in the guest" timeout 60 "$build/clearvm" --root "$oroot" \
	exec c11 /bin/sh -c "while kill -0 $(cat "$work/vol/up2") 2>/dev/null; do sleep 0.1; done"
# Four sessions at once, each with its own stdin, stdout and status; a fifth waits for a free
# one and is not lost. The five clients start together: whichever four connect first run.
for i in 1 2 3 4 5; do
	echo "in$i" | "$build/clearvm" --root "$oroot" exec c11 /bin/sh -c \
		"read x; echo \$x > /vol/s$i; until [ -e /vol/go12 ]; do sleep 0.1; done; echo out\$x; exit $i" \
		> "$work/s$i.out" 2>&1 &
	eval "spid$i=\$!"
done
sessions_in() { # the sessions whose command has read its stdin, as "N:what-it-read" words
	local i
	for i in 1 2 3 4 5; do [ -s "$work/vol/s$i" ] && echo -n "$i:$(cat "$work/vol/s$i") "; done
}
wait_until 120 sh -c "test \$(find '$work/vol' -name 's[1-5]' -size +0 | wc -l) = 4"
running=$(sessions_in) own=yes
for w in $running; do [ "${w#*:}" = "in${w%%:*}" ] || own=no; done
check "four exec sessions run at once, each took its own stdin (got: $running)" \
	test "$(wc -w <<< "$running")" = 4 -a $own = yes
touch "$work/vol/go12"
for i in 1 2 3 4 5; do
	eval "wait \$spid$i"; rc=$?
	check "session $i: its own status ($i, got $rc) and output (got: $(cat "$work/s$i.out"))" \
		test $rc = $i -a "$(cat "$work/s$i.out")" = "outin$i"
done
# update: what the host grants the VMM changes (its cgroup's CPU time, weight and CPUs), as
# runc's flags and as containerd's shim sends it (-r -, the whole resources object with the
# memory limit the VM was made with); a memory limit sets how much of the VM's RAM the guest
# may use (the balloon takes the rest and gives it back); one above that RAM is refused and the
# VM goes on.
cg=/sys/fs/cgroup/clearvm-it/c11
check "(the VMM is in the cgroup its cgroupsPath names)" grep -qx '0::/clearvm-it/c11' "/proc/$(cat "$work/c11.pid")/cgroup"
oci update --cpu-quota 50000 --cpu-period 100000 c11 2> "$work/err"; rc=$?
check "update --cpu-quota --cpu-period: the VMM's cgroup's cpu.max (got $rc: $(cat "$cg/cpu.max" "$work/err"))" \
	test $rc = 0 -a "$(cat "$cg/cpu.max")" = "50000 100000"
echo '{"memory": {"limit": 268435456, "swap": 268435456}, "cpu": {"shares": 2048, "quota": -1, "cpus": "0"},
	"devices": [{"allow": false, "access": "rwm"}]}' | oci update -r - c11 2> "$work/err"; rc=$?
check "update -r -: cpu.weight from shares, no quota, the cpuset (got $rc: $(cat "$cg/cpu.weight" "$cg/cpu.max" "$cg/cpuset.cpus" "$work/err"))" \
	test $rc = 0 -a "$(cat "$cg/cpu.weight")" = 79 -a "$(cat "$cg/cpu.max")" = "max 100000" -a "$(cat "$cg/cpuset.cpus")" = 0
memtotal() { oci exec c11 awk '/MemTotal/ {print $2}' /proc/meminfo; }
memtotal_at_most() { [ "$(memtotal)" -le "$1" ]; }
memtotal_is() { [ "$(memtotal)" = "$1" ]; }
before=$(memtotal)
oci update --memory 128m c11 2> "$work/err"; rc=$?
check "update --memory 128m of a VM made with 256m: 0 (got $rc: $(cat "$work/err"))" test $rc = 0
check "the guest's MemTotal drops by the 128 MiB the balloon takes (from $before kB)" \
	wait_until 100 memtotal_at_most $((before - 127 * 1024))
check "(and the guest still runs commands: got $(oci exec c11 cat /dev/marker))" test "$(oci exec c11 cat /dev/marker)" = inside
oci update --memory 256m c11 2> "$work/err"; rc=$?
check "update --memory 256m, as it was made: 0 (got $rc: $(cat "$work/err"))" test $rc = 0
check "and the guest's MemTotal is back to $before kB" wait_until 100 memtotal_is "$before"
oci update --memory 512m c11 2> "$work/err"; rc=$?
check "update of the memory limit above the VM's RAM: 1 and one line (got $rc: $(cat "$work/err"))" test $rc = 1 -a "$(wc -l < "$work/err")" = 1
check "and the VM goes on (an exec runs)" test "$(oci exec c11 cat /dev/marker)" = inside
# pause and resume: the VMM's threads all stop, the VM takes no exec, and goes on after.
vmm_state() { sed 's/.*) //' "/proc/$(cat "$work/c11.pid")/task/$1/stat" | cut -c1; }
threads_are() { for t in "/proc/$(cat "$work/c11.pid")"/task/*; do [ "$(vmm_state "${t##*/}")" = "$1" ] || return 1; done; }
threads_none() { for t in "/proc/$(cat "$work/c11.pid")"/task/*; do [ "$(vmm_state "${t##*/}")" != "$1" ] || return 1; done; }
oci pause c11; rc=$?
check "pause: 0 (got $rc), and state says paused" test $rc = 0 -a "$(oci state c11 | grep -c '"status": "paused"')" = 1
check "pause: every thread of the VMM is stopped ($(ls "/proc/$(cat "$work/c11.pid")/task" | wc -l) threads)" threads_are T
oci exec c11 /bin/true 2> "$work/err"; rc=$?
check "exec into a paused container: 1 and one line (got $rc: $(cat "$work/err"))" test $rc = 1 -a "$(wc -l < "$work/err")" = 1
oci pause c11 2> "$work/err"; rc=$?
check "pause of a paused container: 1 (got $rc: $(cat "$work/err"))" test $rc = 1 -a "$(wc -l < "$work/err")" = 1
timeout 60 "$build/clearvm" --root "$oroot" update --memory 128m c11 2> "$work/err"; rc=$?
check "update --memory of a paused container: 1 and one line, at once (got $rc: $(cat "$work/err"))" \
	test $rc = 1 -a "$(wc -l < "$work/err")" = 1
oci delete c11 2> "$work/err"; rc=$?
check "delete of a paused container without --force: refused (got $rc: $(cat "$work/err"))" test $rc = 1 -a -d "$oroot/c11"
oci resume c11; rc=$?
check "resume: 0 (got $rc), and state says running" test $rc = 0 -a "$(oci state c11 | grep -c '"status": "running"')" = 1
check "resume: no thread of the VMM is stopped" threads_none T
check "resume: the VM goes on (an exec runs)" timeout 60 "$build/clearvm" --root "$oroot" exec c11 /bin/true
oci resume c11 2> "$work/err"; rc=$?
check "resume of a running container: 1 (got $rc: $(cat "$work/err"))" test $rc = 1 -a "$(wc -l < "$work/err")" = 1
touch "$work/vol/go11"
wait $epid; rc=$?
check "the container still ends with its own status (0, got $rc)" test $rc = 0
oci exec c11 /bin/true 2> "$work/err"; rc=$?
check "exec in a stopped container: 1 and one line (got $rc: $(cat "$work/err"))" test $rc = 1 -a "$(wc -l < "$work/err")" = 1
oci delete c11
check "delete removes the VMM's cgroup" test ! -e "$cg"
rmdir /sys/fs/cgroup/clearvm-it

# process.terminal: the workload runs on a pty of consoleSize; its master reaches the engine
# over the console socket, the output comes back through it.
bundle "$work/b10" '["/bin/sh", "-c", "tty; stty size; exit 4"]' '"terminal": true, "consoleSize": {"height": 30, "width": 100}'
"$engine" --console "$build/clearvm" "$oroot" "$work/b10" c10 "$work/c10.pid" > "$work/out" 2> "$work/err"; rc=$?
check "a container on a terminal: its status (4, got $rc)" test $rc = 4
check "the engine got the pty master over --console-socket" grep -q "engine: pty /dev/pts/" "$work/err"
check "the workload's stdio is a pty in the guest (got: $(tr '\r\n' '  ' < "$work/out"))" grep -q "^/dev/pts/" "$work/out"
check "of the size consoleSize gave" grep -q "^30 100" "$work/out"
oci delete c10

# linux.namespaces network with a path, as a CNI plugin sets one up (here a veth pair the test
# makes, the host's end 10.99.0.1): the guest takes over the namespace's interface, its address
# and MAC; what reaches that address reaches the guest, and the guest reaches the host.
ns=clearvm-oci-$$
ip netns add "$ns"
ip link add "cvh$$" type veth peer name eth0 netns "$ns"
ip addr add 10.99.0.1/24 dev "cvh$$" && ip link set "cvh$$" up
ip -n "$ns" addr add 10.99.0.2/24 dev eth0 && ip -n "$ns" link set eth0 up && ip -n "$ns" route add default via 10.99.0.1
ip addr add 2001:db8:9::1/64 dev "cvh$$" nodad && ip -n "$ns" addr add 2001:db8:9::2/64 dev eth0 nodad &&
	ip -n "$ns" -6 route add default via 2001:db8:9::1
mac=$(ip -n "$ns" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
mkdir -p "$work/www" && echo from-host > "$work/www/f"
busybox httpd -f -p 10.99.0.1:18090 -h "$work/www" &
hpid=$!
busybox httpd -f -p '[2001:db8:9::1]:18094' -h "$work/www" &
hpid6=$!
# A Kubernetes pod: its sandbox (pause) container first, in the pod's namespace, as containerd's
# CRI creates it: it runs nothing (its /pause is not even in this rootfs), holds no VM and no
# privilege, and leaves the interface to the app container after it.
bundle "$work/b23" '["/pause"]' '' \
	'"annotations": {"io.kubernetes.cri.container-type": "sandbox"},
	 "linux": {"namespaces": [{"type": "network", "path": "/run/netns/'"$ns"'"}, {"type": "mount"}]}'
"$engine" "$build/clearvm" "$oroot" "$work/b23" sb "$work/sb.pid" > "$work/outsb" 2> "$work/errsb" &
sbpid=$!
check "a pod sandbox starts (state running)" wait_until 60 state_is sb status '"running"'
sbp=$(cat "$work/sb.pid")
check "it is a process of its own, holding no VM (no /dev/kvm open), one thread" \
	sh -c "test -d /proc/$sbp && ! ls -l /proc/$sbp/fd | grep -q kvm && grep -q '^Threads:[[:space:]]*1$' /proc/$sbp/status"
check "as nobody, with no_new_privs" sh -c "grep -q '^Uid:[[:space:]]*65534[[:space:]]' /proc/$sbp/status && grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$sbp/status"
oci update --cpu-quota 10000 sb 2> "$work/err"; rc=$?
check "update of a container without a cgroup of clearvm's: 1 and one line (got $rc: $(cat "$work/err"))" \
	test $rc = 1 -a "$(wc -l < "$work/err")" = 1
oci exec sb /bin/true 2> "$work/err"; rc=$?
check "exec into a sandbox: refused with one line saying it runs nothing (got $rc: $(cat "$work/err"))" \
	sh -c "test $rc = 1 && test \"\$(wc -l < '$work/err')\" = 1 && grep -q 'sandbox, which runs nothing' '$work/err'"
# in_ns BUNDLE ID SCRIPT: a container in the namespace with $work/vol at /vol, running SCRIPT
# (no double quotes in it), started through the engine in the background (its pid: $epid).
in_ns() {
	bundle "$1" '["/bin/sh", "-c", "'"$3"'"]' '' \
		'"mounts": [{"destination": "/vol", "type": "bind", "source": "'"$work/vol"'", "options": ["rbind", "rw"]}],
		 "linux": {"namespaces": [{"type": "network", "path": "/run/netns/'"$ns"'"}, {"type": "mount"}]}'
	"$engine" "$build/clearvm" "$oroot" "$1" "$2" "$work/$2.pid" > "$work/out.$2" 2> "$work/err.$2" &
	epid=$!
}
in_ns "$work/b16" c16 'echo from-guest > /tmp/g; ip link show eth0 > /vol/link; ip -6 -o addr show dev eth0 scope global > /vol/addr6; wget -qO /vol/got6 http://[2001:db8:9::1]:18094/f; wget -qO /vol/got http://10.99.0.1:18090/f; httpd -f -p 80 -h /tmp'
check "a joined network namespace: the guest reaches the host's side" \
	wait_until 100 grep -qx from-host "$work/vol/got"
check "and the host reaches the guest at the namespace's address" \
	wait_until 60 sh -c "timeout 10 busybox wget -qO- http://10.99.0.2/g | grep -qx from-guest"
check "the guest has the interface's MAC ($mac), the interface another (got: $(cat "$work/vol/link" | grep ether))" \
	sh -c "grep -q 'ether $mac' '$work/vol/link' && ! ip -n '$ns' -o link show eth0 | grep -q '$mac'"
check "and its IPv6 address (got: $(cat "$work/vol/addr6"))" grep -q 'inet6 2001:db8:9::2/64' "$work/vol/addr6"
check "the guest reaches the host's side over IPv6" grep -qx from-host "$work/vol/got6"
check "and the host reaches the guest at the namespace's IPv6 address" \
	wait_until 30 sh -c "timeout 10 busybox wget -qO- 'http://[2001:db8:9::2]/g' | grep -qx from-guest"
# A pod's later containers, each in its own root (a copy of the rootfs with a file of its own)
# with its own volumes: they run in the VM of the pod's first container (c16), beside it.
# pod_bundle DIR ID SCRIPT [VOLUME_OPTION]: its bundle, $work/vol-ID at /own (rw unless given).
pod_bundle() {
	mkdir -p "$work/root-$2" "$work/vol-$2" && cp -a "$root/." "$work/root-$2/" && echo "root of $2" > "$work/root-$2/only-here"
	echo "volume of $2" > "$work/vol-$2/f"
	bundle "$1" '["/bin/sh", "-c", "'"$3"'"]' '' \
		'"mounts": [{"destination": "/own", "type": "bind", "source": "'"$work/vol-$2"'", "options": ["rbind", "'"${4:-rw}"'"]}],
		 "linux": {"namespaces": [{"type": "network", "path": "/run/netns/'"$ns"'"}, {"type": "mount"}]}'
	sed -i "s|\"path\": \"$root\"|\"path\": \"$work/root-$2\"|" "$1/config.json"
}
pod_bundle "$work/b20" c20 'echo mine > /tmp/mark; echo started > /own/up; exec sleep 1000'
"$engine" "$build/clearvm" "$oroot" "$work/b20" c20 "$work/c20.pid" > "$work/out20" 2> "$work/err20" &
epid20=$!
check "a pod's later container runs ($(cat "$work/err20" 2>&1))" wait_until 60 grep -qx started "$work/vol-c20/up"
c20p=$(cat "$work/c20.pid")
check "its host process holds no VM (no /dev/kvm open) and is nobody" \
	sh -c "! ls -l /proc/$c20p/fd | grep -q kvm && grep -q '^Uid:[[:space:]]*65534[[:space:]]' /proc/$c20p/status"
check "the state says running" state_is c20 status '"running"'
check "exec into it: its own root and /tmp" test "$(oci exec c20 cat /only-here /tmp/mark 2>&1)" = "root of c20
mine"
check "and not the first container's /tmp or volume" sh -c "! $(printf '%q ' "$build/clearvm") --root '$oroot' exec c20 cat /tmp/g /vol/link 2> /dev/null"
check "the first container sees the later one's process (one VM)" sh -c "$(printf '%q ' "$build/clearvm") --root '$oroot' exec c16 ps | grep -q '[s]leep 1000'"
pod_bundle "$work/b17" c17 'sleep 4242 & cat /only-here /own/f; test -e /vol/link || echo no-vol; touch /own/x 2> /dev/null || echo read-only; wget -qO- http://127.0.0.1/g; ip -o addr show dev eth0 | grep -c 10.99.0.2; echo err >&2; exit 5' ro
"$engine" "$build/clearvm" "$oroot" "$work/b17" c17 "$work/c17.pid" > "$work/out17" 2> "$work/err17"; rc=$?
check "another: its status (5, got $rc: $(cat "$work/err17"))" test $rc = 5
check "its stderr" test "$(cat "$work/err17")" = err
check "its own root and read-only volume, not the first's; the first's server on the pod's loopback; the pod's address (got: $(cat "$work/out17" | tr '\n' ' '))" \
	test "$(cat "$work/out17")" = "root of c17
volume of c17
no-vol
read-only
from-guest
1"
check "what a later container left running ends with it" sh -c "! $(printf '%q ' "$build/clearvm") --root '$oroot' exec c16 ps | grep -q '[s]leep 4242'"
oci kill c20 KILL
wait $epid20; rc=$?
check "kill -9 of a later container: its host process ends with 137 (got $rc)" test $rc = 137
oci delete c17
oci delete c20
check "deleted, the later containers leave nothing bound in the pod's share, and their roots and volumes as they were" \
	sh -c "! grep -q '$oroot/c16/pod/' /proc/self/mountinfo && test -z \"\$(ls -A '$oroot/c16/pod')\" && test -s '$work/root-c17/bin/busybox' && test -f '$work/vol-c17/f' && test ! -e '$work/vol-c17/x'"
check "the first container goes on" sh -c "timeout 10 busybox wget -qO- http://10.99.0.2/g | grep -qx from-guest"
pod_bundle "$work/b21" c21 'echo started > /own/up; exec sleep 1000'
"$engine" "$build/clearvm" "$oroot" "$work/b21" c21 "$work/c21.pid" > /dev/null 2> "$work/err21" &
epid21=$!
check "(a later container runs)" wait_until 60 grep -qx started "$work/vol-c21/up"
oci kill c16 KILL
wait $epid
wait $epid21; rc=$?
check "the pod's VM ended (its first container killed): a later container ends with it, not 0 (got $rc)" test $rc != 0
check "and its state says stopped" state_is c21 status '"stopped"'
oci delete c16
oci delete c21
check "both deleted: nothing of them left bound on the host" sh -c "! grep -q '$oroot/' /proc/self/mountinfo && test ! -e '$oroot/c16' && test -f '$work/vol-c21/up'"
# The next container in the namespace (a restart in a Kubernetes pod) finds it as it was.
rm -f "$work/vol/got"
"$engine" "$build/clearvm" "$oroot" "$work/b16" c18 "$work/c18.pid" > "$work/out18" 2> "$work/err18" &
epid=$!
check "the next container in the namespace: the host reaches it at the same address" \
	wait_until 100 sh -c "timeout 10 busybox wget -qO- http://10.99.0.2/g | grep -qx from-guest"
check "and it reaches the host" wait_until 30 grep -qx from-host "$work/vol/got"
oci kill c18 KILL
wait $epid
oci delete c18
# An IPv6-only network in the namespace (its IPv4 address and route taken away): the guest
# has IPv6 alone, at the interface's IPv6 address.
ip -n "$ns" route del default && ip -n "$ns" addr del 10.99.0.2/24 dev eth0
in_ns "$work/b19" c19 'echo from-guest > /tmp/g; ip -4 -o addr show dev eth0 | wc -l > /vol/n4; httpd -f -p 80 -h /tmp'
check "an IPv6-only network in the namespace: the host reaches the guest at its IPv6 address" \
	wait_until 100 sh -c "timeout 10 busybox wget -qO- 'http://[2001:db8:9::2]/g' | grep -qx from-guest"
check "and the guest has no IPv4 address (got $(cat "$work/vol/n4" 2>&1))" test "$(cat "$work/vol/n4")" = 0
oci kill c19 KILL
wait $epid
oci delete c19
oci kill sb TERM
wait $sbpid; rc=$?
check "the pod sandbox ends on SIGTERM with 0, as pause does (got $rc: $(cat "$work/errsb"))" test $rc = 0
oci delete sb
check "and leaves no state" test ! -e "$oroot/sb"
kill $hpid $hpid6
ip netns del "$ns"
ip link del "cvh$$" 2> /dev/null
check "nothing of it on the host's side: no clearvm link" sh -c "! ip -o link | grep -q clearvm"

# A path to the host's own network namespace (runc would share it): the guest gets the host's
# network through passt, as with no namespace, and the host's interfaces are left alone.
bundle "$work/b25" '["/bin/sh", "-c", "ip -o -4 addr show eth0 | grep -c inet"]' '' \
	'"linux": {"namespaces": [{"type": "network", "path": "/proc/1/ns/net"}, {"type": "mount"}]}'
links=$(ip -o link | cut -d: -f2- | sort)
"$engine" "$build/clearvm" "$oroot" "$work/b25" c25 "$work/c25.pid" > "$work/out" 2> "$work/err"; rc=$?
check "the host's own network namespace by path: the guest has an address through passt (got $rc: $(cat "$work/out" "$work/err"))" \
	test $rc = 0 -a "$(cat "$work/out")" = 1
check "and the host's interfaces are as they were" test "$(ip -o link | cut -d: -f2- | sort)" = "$links"
oci delete c25

# Refused at create, with one line and nothing left behind: what clearvm cannot honour.
bundle "$work/b8" '["/bin/true"]' '"terminal": true'
bundle "$work/b9" '["/bin/true"]' '' '"linux": {"devices": [{"path": "/dev/kvm", "type": "c", "major": 10, "minor": 232}]}'
bundle "$work/b22" '["/bin/true"]' '' '"annotations": {"io.clearvm.fs": "nfs"}'
bundle "$work/b24" '["/bin/true"]' '' '"linux": {"namespaces": [{"type": "ipc", "path": "/proc/1/ns/ipc"}]}'
for b in b8:process.terminal b9:linux.devices b22:io.clearvm.fs b24:linux.namespaces; do # b8: a terminal without a console socket
	oci create --bundle "$work/${b%%:*}" --pid-file "$work/x.pid" cx 2> "$work/err"; rc=$?
	check "create refuses ${b#*:}: 1 (got $rc), one line naming it" \
		test $rc = 1 -a "$(wc -l < "$work/err")" = 1 -a -n "$(grep -F "${b#*:}" "$work/err")"
	check "and leaves no state" test ! -e "$oroot/cx"
done
check "features: a JSON document of what clearvm honours" \
	sh -c "\"$build/clearvm\" features | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"ociVersionMax\"] != \"1.1.0\" or \"createContainer\" in d[\"hooks\"] or \"poststop\" not in d[\"hooks\"])'"
# --log FILE --log-format json: errors as JSON lines with "level":"error", as containerd reads.
"$build/clearvm" --root "$oroot" --log "$work/log.json" --log-format json create --bundle "$work/b8" cx 2> /dev/null
check "--log-format json: the error is a JSON line with level error" \
	python3 -c 'import json,sys; l=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(not (l["level"]=="error" and "terminal" in l["msg"]))' "$work/log.json"
unset CLEARVM_KERNEL CLEARVM_INITRAMFS
rm -rf "$oroot"
