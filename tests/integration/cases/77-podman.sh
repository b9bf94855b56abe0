# SPDX-License-Identifier: Apache-2.0
# Real podman (Debian 12's 4.3, through its conmon) runs containers with clearvm as its OCI
# runtime: status, stdout and stderr, -e/-w/-u/-v, --memory/--cpus, run -d, stop, kill, logs,
# rm; and nothing of clearvm is left on the host afterwards.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

if ! command -v podman > /dev/null; then
	check "podman is installed (./setup.sh installs it)" false
else
source "$here/podman-env.sh" "$root"
check "podman imports the test rootfs as an image" "${P[@]}" image exists clearvm-test

# Status, stdout and stderr, each exactly.
"${P[@]}" run --rm --network none clearvm-test /bin/sh -c 'echo out; echo err >&2; exit 3' \
	> "$work/out" 2> "$work/err"; rc=$?
check "podman run: the container's status (3, got $rc)" test $rc = 3
check "its stdout" test "$(cat "$work/out")" = out
check "its stderr (got: $(grep -v -e 'PIDs limit' -e 'level=warning' "$work/err"))" \
	test "$(grep -v -e 'PIDs limit' -e 'level=warning' "$work/err")" = err

# -t: the workload on a terminal, through conmon's console socket.
"${local_tmp[@]}" "${P[@]}" run --rm -t --network none clearvm-test /bin/sh -c 'tty; exit 6' > "$work/out" 2> "$work/err"; rc=$?
check "podman run -t: the status (6, got $rc)" test $rc = 6
check "the workload's stdio is a pty (got: $(tr '\r\n' '  ' < "$work/out"))" grep -q "^/dev/pts/" "$work/out"

# -e, -w, -u, -v and the host's network (passt, the guest has eth0).
mkdir -p "$work/vol"
chmod 777 "$work/vol" # the workload runs as uid 1000
"${P[@]}" run --rm --network host -e FOO=bar -w /tmp -u 1000:1000 -v "$work/vol:/vol" clearvm-test \
	/bin/sh -c 'echo $FOO $(pwd) $(id -u):$(id -g) > /vol/out; ip -o -4 addr show eth0' > "$work/out" 2> "$work/err"; rc=$?
check "podman run -e -w -u -v: 0 (got $rc)" test $rc = 0
check "env, working directory, user (got: $(cat "$work/vol/out" 2>&1))" test "$(cat "$work/vol/out")" = "bar /tmp 1000:1000"
check "--network host: the guest's eth0 has an address through passt" grep -q 'inet ' "$work/out"

# --ulimit: podman's rlimits are the workload's.
"${P[@]}" run --rm --network none --ulimit nofile=500:600 clearvm-test /bin/sh -c 'echo $(ulimit -n) $(ulimit -Hn)' > "$work/out" 2> "$work/err"
check "podman run --ulimit nofile=500:600 (got: $(cat "$work/out"))" test "$(cat "$work/out")" = "500 600"

# --memory and --cpus size the VM (the limit plus 64 MiB for the guest kernel; CPUs rounded up).
"${P[@]}" run --rm --network none --memory 400m --cpus 1.5 clearvm-test \
	/bin/sh -c 'grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo' > "$work/out" 2> "$work/err"
kb=$(awk '/MemTotal/ {print $2}' "$work/out")
check "--memory 400m: the VM's RAM is 400 MiB plus the guest kernel's 64 (MemTotal ${kb:-none} kB)" \
	test "${kb:-0}" -gt $((400 * 1024)) -a "${kb:-0}" -le $((464 * 1024))
check "--cpus 1.5: two vCPUs (got $(tail -1 "$work/out"))" test "$(tail -1 "$work/out")" = 2

# run -d, logs, stop (SIGTERM reaches the workload's handler), the status podman records, rm.
id=$("${P[@]}" run -d --network none clearvm-test /bin/sh -c 'trap "echo got-term; exit 5" TERM; echo ready; sleep 100 & wait')
check "podman run -d gives a container id" test -n "$id"
check "podman logs shows its output" wait_until 100 sh -c "$(printf '%q ' "${P[@]}") logs $id | grep -q ready"
check "podman ps lists it running" sh -c "$(printf '%q ' "${P[@]}") ps --format '{{.ID}} {{.Status}}' | grep -q '^${id:0:12} Up'"
"${P[@]}" stop -t 30 "$id" > /dev/null
check "podman stop: the workload's TERM handler ran" sh -c "$(printf '%q ' "${P[@]}") logs $id | grep -q got-term"
check "and podman records its status (5)" test "$("${P[@]}" inspect --format '{{.State.ExitCode}}' "$id")" = 5
"${P[@]}" rm "$id" > /dev/null
check "podman rm: the container is gone" sh -c "! $(printf '%q ' "${P[@]}") container exists $id"

# podman's default network (CNI's bridge) and -p: the guest takes over the address CNI gave the
# container's namespace, so the published port's DNAT reaches the guest's server; the guest
# reaches the host through the bridge. (CNI keeps its state in /var/lib/cni: the test bed's own.)
if [ -n "${CLEARVM_IN_TESTBED:-}" ] && ! mountpoint -q /var/lib/cni; then mount -t tmpfs tmpfs /var/lib/cni; fi
id=$("${P[@]}" run -d -p 18080:80 clearvm-test /bin/sh -c \
	'echo served-by-guest > /tmp/i; ip -4 -o addr show eth0 > /tmp/addr; httpd -f -p 80 -h /tmp')
ns=$("${P[@]}" inspect -f '{{.NetworkSettings.SandboxKey}}' "$id")
# (Each fetch given 10 s: a connection attempt that hangs is tried again, not waited out.)
failed=$tap_failed
check "podman run -p on podman's default network: the published port reaches the guest's server" \
	wait_until 100 sh -c "timeout 10 busybox wget -qO- http://127.0.0.1:18080/i | grep -qx served-by-guest"
if [ $tap_failed != $failed ]; then # what the host's bridge and the container's namespace saw
	{ ip neigh show dev cni-podman0; nsenter --net="$ns" sh -c 'ip -s link show clearvm-tap; bridge fdb show br clearvm-br'; } 2>&1 | sed 's/^/# /'
fi
ip=$("${P[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' "$id")
check "the guest has the address podman gave the container ($ip; got: $("${P[@]}" exec "$id" cat /tmp/addr))" \
	sh -c "test -n '$ip' && $(printf '%q ' "${P[@]}") exec $id cat /tmp/addr | grep -q 'inet $ip/'"
mkdir -p "$work/www" && echo from-host > "$work/www/f"
busybox httpd -f -p 10.88.0.1:18081 -h "$work/www" &
hpid=$!
check "the guest reaches a server on the host's bridge address" \
	wait_until 30 sh -c "$(printf '%q ' "${P[@]}") exec $id wget -qO- http://10.88.0.1:18081/f | grep -qx from-host"
check "(the container's namespace holds clearvm's bridge: $ns)" sh -c "nsenter --net='$ns' ip link show clearvm-br > /dev/null"
kill $hpid
"${P[@]}" rm -f "$id" > /dev/null
check "podman rm: the namespace is gone with it, and no clearvm link on the host" \
	sh -c "test ! -e '$ns' && ! ip -o link | grep -q clearvm"

# A podman pod: its infra container is the pod's VM (on podman's network, with the pod's
# published port), and each container run in the pod runs in that VM, in its own root, beside
# the others. (podman builds its pause image from the host's catatonit, through /var/tmp: the
# test bed's own.)
if [ -n "${CLEARVM_IN_TESTBED:-}" ] && ! mountpoint -q /var/tmp; then mount -t tmpfs tmpfs /var/tmp; fi
"${P[@]}" pod create --name clearvm-pod -p 18085:80 > /dev/null 2> "$work/err"; rc=$?
check "podman pod create (got $rc: $(tail -1 "$work/err"))" test $rc = 0
id=$("${P[@]}" run -d --pod clearvm-pod clearvm-test /bin/sh -c 'echo from-pod > /tmp/g; exec httpd -f -p 80 -h /tmp')
check "a container of the pod serves at the pod's published port" \
	wait_until 100 sh -c "timeout 10 busybox wget -qO- http://127.0.0.1:18085/g | grep -qx from-pod"
out=$("${P[@]}" run --rm --pod clearvm-pod clearvm-test /bin/sh -c \
	'wget -qO- http://127.0.0.1/g; test -e /tmp/g || echo own-tmp; exit 4' 2> "$work/err"); rc=$?
check "another container of the pod: its status (4, got $rc: $(tail -1 "$work/err"))" test $rc = 4
check "it reaches the first on the pod's loopback, and has its own /tmp (got: $(tr '\n' ' ' <<< "$out"))" \
	test "$out" = "from-pod
own-tmp"
vmms=$(for p in $(pgrep -f '[c]learvm create'); do ls -l /proc/$p/fd 2> /dev/null | grep kvm > /dev/null && echo $p; done | wc -l)
check "one VM for the pod (VMMs with a KVM fd: $vmms)" test "$vmms" = 1
"${P[@]}" pod rm -f clearvm-pod > /dev/null 2>&1
check "podman pod rm -f: no VMM, no mount and no state of clearvm's left" \
	wait_until 30 sh -c "! pgrep -f '[c]learvm create' > /dev/null && ! grep -q /run/clearvm /proc/self/mountinfo && test -z \"\$(ls -A /run/clearvm 2> /dev/null)\""

# podman build: each RUN step runs in a clearvm VM (buildah creates, starts and deletes it).
# (Its layers are copied through /var/tmp: the test bed's own.)
if [ -n "${CLEARVM_IN_TESTBED:-}" ] && ! mountpoint -q /var/tmp; then mount -t tmpfs tmpfs /var/tmp; fi
mkdir -p "$work/ctx"
printf 'FROM clearvm-test\nRUN echo built > /built && uname -r > /kernel\nRUN test "$(cat /built)" = built\n' > "$work/ctx/Containerfile"
"${P[@]}" build -q -t clearvm-built "$work/ctx" > "$work/out" 2> "$work/err"; rc=$?
check "podman build with RUN steps: 0 (got $rc: $(tail -1 "$work/err"))" test $rc = 0
# (and, in the same run, podman passes --annotation through: io.clearvm.fs=9p shares the root
# over 9p, io.clearvm.volume-fs=virtiofs a -v volume over virtio-fs)
out=$("${P[@]}" run --rm --network none --annotation io.clearvm.fs=9p --annotation io.clearvm.volume-fs=virtiofs \
	-v "$work/vol:/vol" clearvm-test /bin/sh -c 'uname -r; cut -d" " -f2,3 /proc/mounts | grep "^/vol "
	cut -d" " -f2,3 /proc/mounts | grep "^/ "; cat /vol/out')
guest_kernel=$(head -1 <<< "$out")
check "podman run --annotation io.clearvm.fs=9p: the root over 9p (got: $(sed -n 3p <<< "$out"))" \
	test "$(sed -n 3p <<< "$out")" = "/ 9p"
check "and --annotation io.clearvm.volume-fs=virtiofs: the -v volume over virtio-fs, its file read (got: $(sed -n '2p;4p' <<< "$out" | tr '\n' ' '))" \
	test "$(sed -n '2p;4p' <<< "$out" | tr '\n' ' ')" = "/vol virtiofs bar /tmp 1000:1000 "
check "its RUN steps ran in clearvm's guest kernel ($guest_kernel, not the host's $(uname -r))" \
	sh -c "test '$guest_kernel' != '$(uname -r)' && test \"\$($(printf '%q ' "${P[@]}") run --rm --network none clearvm-built cat /kernel)\" = '$guest_kernel'"
"${P[@]}" rmi -f clearvm-built > /dev/null 2>&1

# kill -s KILL of a running container: 137.
id=$("${P[@]}" run -d --network none clearvm-test /bin/sh -c 'echo ready; sleep 100')
wait_until 100 sh -c "$(printf '%q ' "${P[@]}") logs $id | grep -q ready"
# podman exec (conmon runs `exec --process --detach --pid-file` and waits for the host process).
"${P[@]}" exec "$id" /bin/sh -c 'echo x-out; echo x-err >&2; exit 6' > "$work/out" 2> "$work/err"; rc=$?
check "podman exec: the process's status (6, got $rc)" test $rc = 6
check "its stdout and stderr (got: $(cat "$work/out" "$work/err" | tr "\n" " "))" \
	test "$(cat "$work/out")" = x-out -a "$(cat "$work/err")" = x-err
"${P[@]}" exec -u 1000:1001 -w /tmp -e FOO=baz "$id" /bin/sh -c 'echo $FOO $(pwd) $(id -u):$(id -g)' > "$work/out" 2>&1
check "podman exec -u -w -e (got: $(cat "$work/out"))" test "$(cat "$work/out")" = "baz /tmp 1000:1001"
"${local_tmp[@]}" "${P[@]}" exec -t "$id" /bin/sh -c 'tty; exit 3' > "$work/out" 2>&1; rc=$?
check "podman exec -t: a pty in the guest (got $rc: $(tr '\r\n' '  ' < "$work/out"))" \
	sh -c "test $rc = 3 && grep -q '^/dev/pts/' '$work/out'"
# podman pause / unpause: clearvm pause and resume (the VMM's threads stopped, then going on).
"${P[@]}" pause "$id" > /dev/null; rc=$?
check "podman pause: 0 (got $rc), podman and clearvm say paused" sh -c "test $rc = 0 &&
	$(printf '%q ' "${P[@]}") inspect -f '{{.State.Status}}' $id | grep -qx paused &&
	$build/clearvm state $id | grep -q '\"status\": \"paused\"'"
"${P[@]}" unpause "$id" > /dev/null; rc=$?
check "podman unpause: 0 (got $rc), and an exec runs" sh -c "test $rc = 0 &&
	timeout 60 $(printf '%q ' "${P[@]}") exec $id /bin/true"
"${P[@]}" kill -s KILL "$id" > /dev/null
rc=$("${P[@]}" wait "$id")
check "podman kill -s KILL: the container's status is 137 (got $rc)" test "$rc" = 137
"${P[@]}" rm -f "$id" > /dev/null

# rm -f of a running container, then: no VMM, no passt, no state of clearvm's left.
id=$("${P[@]}" run -d --network host clearvm-test /bin/sh -c 'echo ready; sleep 100')
wait_until 100 sh -c "$(printf '%q ' "${P[@]}") logs $id | grep -q ready"
vmm_of() { pgrep -f "[c]learvm create .*$1" > /dev/null; } # [c]: not this shell's own line
check "(a running container's VMM is there)" vmm_of "$id"
check "(and its passt)" sh -c "pgrep -x passt > /dev/null || pgrep -x passt.avx2 > /dev/null"
vpid=$(pgrep -f "[c]learvm create .*$id" | head -1)
check "the VMM is in the cgroup podman named (cgroupsPath; got $(cat /proc/$vpid/cgroup 2>&1))" \
	grep -q "^0::/libpod_parent/libpod-$id\$" /proc/$vpid/cgroup
# podman update: the container's resources as podman sends them (its default pids limit
# among them) reach the VMM's cgroup.
"${P[@]}" update --cpu-quota 30000 --cpu-period 100000 --cpu-shares 512 "$id" > /dev/null 2> "$work/err"; rc=$?
cg=/sys/fs/cgroup/libpod_parent/libpod-$id
check "podman update: the VMM's cgroup's cpu.max and cpu.weight (got $rc: $(cat "$cg/cpu.max" "$cg/cpu.weight" "$work/err" 2>&1))" \
	test $rc = 0 -a "$(cat "$cg/cpu.max")" = "30000 100000" -a "$(cat "$cg/cpu.weight")" = 20
# podman update --memory: the guest may use that much of the VM's RAM (made without a limit:
# 256 MiB; 100 and the guest kernel's 64), the balloon takes the rest.
memtotal() { "${P[@]}" exec "$id" awk '/MemTotal/ {print $2}' /proc/meminfo; }
memtotal_at_most() { [ "$(memtotal)" -le "$1" ]; }
before=$(memtotal)
"${P[@]}" update --memory 100m "$id" > /dev/null 2> "$work/err"; rc=$?
check "podman update --memory 100m: 0 (got $rc: $(cat "$work/err"))" test $rc = 0
check "and the guest's MemTotal drops by the 92 MiB the balloon takes (from $before kB)" \
	wait_until 100 memtotal_at_most $((before - 91 * 1024))
"${P[@]}" rm -f "$id" > /dev/null
check "podman rm -f: its VMM is gone" wait_until 30 sh -c "! pgrep -f '[c]learvm create .*$id' > /dev/null"
check "no passt left" sh -c "! pgrep -x passt > /dev/null && ! pgrep -x passt.avx2 > /dev/null"
check "nor its cgroup" test ! -e "/sys/fs/cgroup/libpod_parent/libpod-$id"
check "no state left under /run/clearvm" sh -c "[ -z \"\$(ls -A /run/clearvm 2>/dev/null)\" ]"

# kill -9 of the container's conmon, then rm -f: the VMM is gone. podman 4.3 then calls only
# `kill`, never `delete` (its conmon would have): the state directory stays, as crun's does,
# saying stopped, and a delete (an engine's later cleanup) removes it.
id=$("${P[@]}" run -d --network none clearvm-test /bin/sh -c 'echo ready; sleep 100')
wait_until 100 sh -c "$(printf '%q ' "${P[@]}") logs $id | grep -q ready"
check "(its conmon and VMM are there)" sh -c "pgrep -f '[c]onmon .*$id' > /dev/null && pgrep -f '[c]learvm create .*$id' > /dev/null"
pkill -KILL -f "[c]onmon .*$id"
"${P[@]}" rm -f "$id" > /dev/null 2>&1
check "after kill -9 of conmon, podman rm -f: its VMM is gone" wait_until 30 sh -c "! pgrep -f '[c]learvm create .*$id' > /dev/null"
check "its state says stopped" sh -c "$build/clearvm state $id | grep -q '\"status\": \"stopped\"'"
"$build/clearvm" delete "$id"
check "and delete removes it" test ! -e "/run/clearvm/$id"

# A real Debian 12 userland (debootstrap's minbase with python3, made by setup.sh): its bash,
# dpkg, perl and python3 run in the VM, podman resolves its users, and exec works in it.
if ! deb=$("$here/../tools/debian-rootfs.sh" --cached); then
	check "a Debian 12 image for podman (./setup.sh makes it with debootstrap)" false
else
	"${P[@]}" import -q "$deb" clearvm-debian > /dev/null
	"${P[@]}" run --rm --network none clearvm-debian /bin/bash -c 'cat /etc/debian_version; uname -r
		dpkg-query -W -f="\${Status}\n" coreutils; perl -e "print 6 * 7, qq(\n)"
		python3 -c "import sys; print(sys.version_info[:2])"; exit 4' > "$work/out" 2> "$work/err"; rc=$?
	check "a Debian 12 image: its bash's status (4, got $rc: $(tail -1 "$work/err"))" test $rc = 4
	check "it is Debian 12 (got $(sed -n 1p "$work/out")), in clearvm's guest kernel" \
		sh -c "sed -n 1p '$work/out' | grep -q '^12\.' && test \"\$(sed -n 2p '$work/out')\" = '$guest_kernel'"
	check "its dpkg knows its packages (got $(sed -n 3p "$work/out"))" test "$(sed -n 3p "$work/out")" = "install ok installed"
	check "its perl runs (got $(sed -n 4p "$work/out"))" test "$(sed -n 4p "$work/out")" = 42
	check "its python3 runs (got $(sed -n 5p "$work/out"))" test "$(sed -n 5p "$work/out")" = "(3, 11)"
	u=$("${P[@]}" run --rm --network none -u nobody clearvm-debian id -u 2>&1)
	check "podman run -u nobody: the image's own passwd gives 65534 (got $u)" test "$u" = 65534
	id=$("${P[@]}" run -d --network none clearvm-debian /bin/bash -c 'echo ready; exec sleep 100')
	wait_until 100 sh -c "$(printf '%q ' "${P[@]}") logs $id | grep -q ready"
	n=$("${P[@]}" exec "$id" /bin/bash -c 'dpkg-query -W | wc -l')
	check "podman exec in it: dpkg-query lists its packages (got ${n:-none})" test "${n:-0}" -gt 50
	"${P[@]}" rm -f "$id" > /dev/null
	"${P[@]}" rmi -f clearvm-debian > /dev/null 2>&1
fi
rm -rf "$pm"
fi
