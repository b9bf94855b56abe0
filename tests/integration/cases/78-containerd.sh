# SPDX-License-Identifier: Apache-2.0
# Real containerd (Debian 12's 1.6) runs containers through its runc.v2 shim with clearvm as
# the runc binary (`ctr run --runc-binary`): status, stdout and stderr, a signal through `ctr
# task kill`, a pod made as the CRI makes one (sandbox, then an app in its network namespace),
# and nothing of clearvm left once the shim has deleted the container.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

if ! command -v containerd > /dev/null || ! command -v podman > /dev/null; then
	check "containerd and podman are installed (./setup.sh installs them)" false
else
# containerd's root, state and socket on a local file system; the image made by podman (an OCI
# archive of the test rootfs); the native snapshotter (the test bed's kernel has no overlay).
cd=$(mktemp -d /dev/shm/clearvm-containerd.XXXXXX)
if [ -n "${CLEARVM_IN_TESTBED:-}" ] && ! mountpoint -q /var/cache; then
	mount -t tmpfs tmpfs /var/cache && mkdir -p /var/cache/containers
fi
cat > "$cd/clearvm-runtime" <<-EOF2
	#!/bin/sh
	export CLEARVM_KERNEL=$build/vmlinux CLEARVM_INITRAMFS=$build/initramfs.cpio CLEARVM_TEMPLATE_DIR=${CLEARVM_TEMPLATE_DIR:-}
	exec $build/clearvm "\$@"
EOF2
chmod +x "$cd/clearvm-runtime"
cat > "$cd/config.toml" <<-EOF2
	version = 2
	root = "$cd/root"
	state = "$cd/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$cd/sock"
EOF2
containerd --config "$cd/config.toml" > "$cd/containerd.log" 2>&1 &
cpid=$!
check "(containerd is up)" wait_until 60 test -S "$cd/sock"
C=(ctr --address "$cd/sock")
P=(env TMPDIR="$cd" podman --root "$cd/proot" --runroot "$cd/prun" --storage-driver vfs --events-backend file --tmpdir "$cd/tmp")
tar -C "$root" -c . | "${P[@]}" import -q - clearvm-test > /dev/null
"${P[@]}" save -q --format oci-archive -o "$cd/image.tar" clearvm-test
img=docker.io/library/clearvm-test:latest
"${C[@]}" image import --snapshotter native --index-name "$img" "$cd/image.tar" > /dev/null
check "ctr imports the test image" sh -c "$(printf '%q ' "${C[@]}") image ls -q | grep -qx '$img'"
R=(run --snapshotter native --runc-binary "$cd/clearvm-runtime")

"${C[@]}" "${R[@]}" --rm "$img" c1 /bin/sh -c 'echo out; echo err >&2; exit 3' > "$work/out" 2> "$work/err"; rc=$?
check "ctr run: the container's status (3, got $rc)" test $rc = 3
check "its stdout" test "$(cat "$work/out")" = out
check "its stderr" test "$(cat "$work/err")" = err

"${C[@]}" "${R[@]}" --rm "$img" c2 /bin/sh -c 'trap "echo got-term; exit 5" TERM; echo ready; sleep 100 & wait' \
	> "$work/out" 2> "$work/err" &
rpid=$!
wait_until 100 grep -q ready "$work/out"
# ctr task exec: the shim runs `exec --process --detach --pid-file` and reaps the host process.
"${C[@]}" task exec --exec-id e1 c2 /bin/sh -c 'echo x-out; echo x-err >&2; exit 4' > "$work/xout" 2> "$work/xerr"; rc=$?
check "ctr task exec: the process's status (4, got $rc)" test $rc = 4
check "its stdout and stderr (got: $(cat "$work/xout" "$work/xerr" | tr "\n" " "))" \
	test "$(cat "$work/xout")" = x-out -a "$(cat "$work/xerr")" = x-err
"${C[@]}" task exec --exec-id e2 c2 /bin/sh -c 'trap "exit 8" TERM; echo x-ready; sleep 100 & wait' > "$work/xout" 2>&1 &
xpid=$!
wait_until 100 grep -q x-ready "$work/xout"
"${C[@]}" task kill --exec-id e2 c2
wait $xpid; rc=$?
check "ctr task kill --exec-id: SIGTERM reaches the exec'd process's handler (8, got $rc)" test $rc = 8
# ctr task pause / resume: the shim runs clearvm pause and resume.
"${C[@]}" task pause c2; rc=$?
check "ctr task pause: 0 (got $rc), ctr says PAUSED" sh -c "test $rc = 0 &&
	$(printf '%q ' "${C[@]}") task ls | grep -q '^c2 .*PAUSED'"
"${C[@]}" task resume c2; rc=$?
check "ctr task resume: 0 (got $rc), and an exec runs" sh -c "test $rc = 0 &&
	timeout 60 $(printf '%q ' "${C[@]}") task exec --exec-id e3 c2 /bin/true"
"${C[@]}" task kill c2
wait $rpid; rc=$?
check "ctr task kill: SIGTERM reaches the workload's handler (5, got $rc)" test $rc = 5
check "which ran" grep -q got-term "$work/out"

# What clearvm refuses reaches ctr's error through the shim (it reads --log's JSON lines).
"${C[@]}" "${R[@]}" --rm --privileged "$img" c3 /bin/true > "$work/out" 2> "$work/err"; rc=$?
check "ctr run --privileged (host devices): refused, clearvm's reason on ctr's stderr (got $rc: $(cat "$work/err"))" \
	grep -q "linux.devices: host devices cannot be passed into the VM" "$work/err"
"${C[@]}" container rm c3 2> /dev/null

# A Kubernetes pod as containerd's CRI makes one, through the same shim: the sandbox (pause)
# container in the pod's network namespace (a veth pair the test makes), then an app container
# in it, each with the CRI's annotation. The sandbox runs nothing; the app's VM has the pod's
# address.
ns=clearvm-ctr-$$
ip netns add "$ns"
ip link add "cvc$$" type veth peer name eth0 netns "$ns"
ip addr add 10.98.1.1/24 dev "cvc$$" && ip link set "cvc$$" up
ip -n "$ns" addr add 10.98.1.2/24 dev eth0 && ip -n "$ns" link set eth0 up &&
	ip -n "$ns" route add default via 10.98.1.1
type=io.kubernetes.cri.container-type
"${C[@]}" "${R[@]}" -d --annotation $type=sandbox --with-ns "network:/run/netns/$ns" "$img" sb /pause > /dev/null 2> "$work/err"
check "a pod sandbox through containerd: its task runs ($(cat "$work/err"))" \
	wait_until 60 sh -c "$(printf '%q ' "${C[@]}") task ls | grep -q '^sb .*RUNNING'"
"${C[@]}" "${R[@]}" -d --annotation $type=container --with-ns "network:/run/netns/$ns" "$img" app1 \
	/bin/sh -c 'echo from-first > /tmp/g; exec httpd -f -p 80 -h /tmp' > /dev/null 2> "$work/err"
check "the pod's first app container serves at the pod's address ($(cat "$work/err"))" \
	wait_until 100 sh -c "timeout 10 busybox wget -qO- http://10.98.1.2/g | grep -qx from-first"
"${C[@]}" "${R[@]}" --rm --annotation $type=container --with-ns "network:/run/netns/$ns" "$img" app /bin/sh -c 'ip addr show eth0; wget -qO- http://127.0.0.1/g; test -e /tmp/g || echo own-tmp; exit 3' \
	> "$work/out" 2> "$work/err"; rc=$?
check "a second app container of the pod: its status (3, got $rc: $(cat "$work/err"))" test $rc = 3
check "it runs in the pod's VM: the pod's address, the first's server on the loopback, its own /tmp (got: $(grep -v '^ ' "$work/out" | tr '\n' ' '))" \
	sh -c "grep -q 'inet 10.98.1.2/24' '$work/out' && grep -qx from-first '$work/out' && grep -qx own-tmp '$work/out'"
"${C[@]}" task kill -s KILL app1
check "the first app container's task stops" \
	wait_until 60 sh -c "$(printf '%q ' "${C[@]}") task ls | grep -q '^app1 .*STOPPED'"
"${C[@]}" task delete app1 > /dev/null 2>&1
"${C[@]}" container rm app1 > /dev/null 2>&1
"${C[@]}" task kill sb
check "the sandbox's task stops on SIGTERM" \
	wait_until 60 sh -c "$(printf '%q ' "${C[@]}") task ls | grep -q '^sb .*STOPPED'"
"${C[@]}" task delete sb > /dev/null 2>&1
"${C[@]}" container rm sb > /dev/null 2>&1
ip netns del "$ns"
ip link del "cvc$$" 2> /dev/null

# kill -9 of the shim: containerd cleans up through the runtime (delete --force).
"${C[@]}" "${R[@]}" -d "$img" c4 /bin/sh -c 'echo ready; sleep 100' > /dev/null
check "(the shim and the VMM of a detached container are there)" \
	wait_until 100 sh -c "pgrep -f '[c]ontainerd-shim-runc-v2 .*-id c4' > /dev/null && pgrep -f '[c]learvm.* create .*c4' > /dev/null"
pkill -KILL -f "[c]ontainerd-shim-runc-v2 .*-id c4"
check "after kill -9 of the shim, its VMM is gone" wait_until 60 sh -c "! pgrep -f '[c]learvm.* create .*c4' > /dev/null"
"${C[@]}" task delete c4 > /dev/null 2>&1
"${C[@]}" container rm c4 > /dev/null 2>&1

check "no container left in containerd" test -z "$("${C[@]}" container ls -q)"
check "no VMM left" sh -c "! pgrep -f '[c]learvm.* create ' > /dev/null"
check "no state left in the shim's runtime root" sh -c "[ -z \"\$(ls -A /run/containerd/runc/default 2>/dev/null)\" ]"
kill "$cpid"; wait "$cpid"
rm -rf "$cd"
fi
