#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# clearvm as an rkt stage1, end to end: the ACI checked as appc and rkt require, then pod
# directories laid out as rkt 1.30 leaves them (two apps, a host and an empty volume,
# isolators, an environment, a non-root user) and the entrypoints called as rkt calls them,
# with every file and exit status rkt reads checked. TAP output.
# Usage: rkt.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
source "$(dirname "$0")/../harness/tap.sh"

work=$(mktemp -d "${CLEARVM_TEST_TMPDIR:-${TMPDIR:-/tmp}}/clearvm-rkt.XXXXXX")
trap 'umount "$work/nested/sub" 2>/dev/null; rm -rf "$work"' EXIT
aci=$build/clearvm-stage1.aci

# --- The image: a valid ACI (appc image format) that rkt accepts as a stage1.
mkdir -p "$work/aci" && tar -xf "$aci" -C "$work/aci"
check "the ACI is a tar of manifest and rootfs/" test -f "$work/aci/manifest" -a -d "$work/aci/rootfs"
check "with the directories rkt requires (rkt/status, rkt/env, opt/stage2)" \
	test -d "$work/aci/rootfs/rkt/status" -a -d "$work/aci/rootfs/rkt/env" -a -d "$work/aci/rootfs/opt/stage2"
validation=$(python3 - "$work/aci" <<'PY'
import json, os, re, subprocess, sys
root = sys.argv[1]
m = json.load(open(os.path.join(root, "manifest")))
ac_ident = re.compile(r"^[a-z0-9]+([-._~/][a-z0-9]+)*$")
errors = []
if m.get("acKind") != "ImageManifest": errors.append("acKind")
if not re.match(r"^\d+\.\d+\.\d+", m.get("acVersion", "")): errors.append("acVersion")
if not ac_ident.match(m.get("name", "")): errors.append("name")
labels = {l["name"]: l["value"] for l in m.get("labels", [])}
if labels.get("os") != "linux" or labels.get("arch") != "amd64": errors.append("os/arch labels")
if not all(ac_ident.match(l) for l in labels): errors.append("label names")
ann = {a["name"]: a["value"] for a in m.get("annotations", [])}
if not all(ac_ident.match(a) for a in ann): errors.append("annotation names")
if ann.get("coreos.com/rkt/stage1/interface-version") != "6": errors.append("interface-version")
for e in ["run", "enter", "gc", "stop", "app/add", "app/rm", "app/start", "app/stop", "attach"]:
    path = ann.get("coreos.com/rkt/stage1/" + e)
    if not path or not path.startswith("/"):
        errors.append("entrypoint " + e); continue
    f = os.path.realpath(os.path.join(root, "rootfs", path.lstrip("/")))
    if not f.startswith(os.path.realpath(os.path.join(root, "rootfs")) + "/") or not os.access(f, os.X_OK):
        errors.append("entrypoint %s: %s not an executable in rootfs" % (e, path)); continue
    hdr = subprocess.run(["readelf", "-lW", f], capture_output=True, text=True).stdout
    if "Requesting program interpreter" in hdr or "LOAD" not in hdr:
        errors.append("entrypoint %s is not a static ELF" % e)
print("ok" if not errors else "bad: " + ", ".join(errors))
PY
)
check "the manifest passes appc's rules and names every entrypoint, static (got: $validation)" test "$validation" = ok

# --- A pod directory as rkt run leaves it: stage1 unpacked, apps under opt/stage2.
uuid_n=0
make_pod() { # make_pod MANIFEST_JSON APP... -> sets $pod and $uuid
	uuid_n=$((uuid_n + 1))
	uuid=$(printf '6d0c1c1e-0000-4000-8000-%012d' "$uuid_n")
	pod=$work/pods/run/$uuid
	mkdir -p "$pod/stage1"
	cp "$work/aci/manifest" "$pod/stage1/manifest"
	cp -a "$work/aci/rootfs" "$pod/stage1/rootfs"
	printf '%s' "$1" > "$pod/pod"
	shift
	for app in "$@"; do
		local r=$pod/stage1/rootfs/opt/stage2/$app/rootfs
		mkdir -p "$(dirname "$r")"
		cp -a "$build/rootfs" "$r"
		echo "web:x:1000:1000:web:/home/web:/bin/sh" >> "$r/etc/passwd"
		echo "web:x:1000:" >> "$r/etc/group"
		mkdir -p "$r/srv"
		echo "$app" > "$r/etc/marker"
		printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/%s"}' "$app" \
			> "$pod/stage1/rootfs/opt/stage2/$app/manifest"
	done
}
# Runs an entrypoint the way rkt does: in the pod directory, with argv[0] the entrypoint's path
# in the stage1 rootfs; run also holds the pod's lock and passes it as RKT_LOCK_FD.
entry() { # entry NAME ARGS...
	local name=$1
	shift
	if [ "$name" = run ]; then
		( exec {lock}<"$pod" && flock -x "$lock" && export RKT_LOCK_FD=$lock && cd "$pod" &&
		  exec "$pod/stage1/rootfs/rkt-run" "$@" )
	else
		( cd "$pod" && exec "$pod/stage1/rootfs/rkt-$name" "$@" )
	fi
}

mkdir -p "$work/data" && echo in-data > "$work/data/in" && chmod 0777 "$work/data"
echo app-conf > "$work/app.conf" && chmod 0666 "$work/app.conf"
# A directory with a mount beneath it, for a non-recursive volume (that mount is left out).
mkdir -p "$work/nested/sub" && echo top > "$work/nested/top" && mount -t tmpfs beneath "$work/nested/sub" &&
	echo beneath > "$work/nested/sub/beneath"
# front: a non-root user, a mountPoint resolved by volume name (a file), one with no volume (an
# implicit empty one), supplementaryGIDs, rkt's resolv.conf and hosts. back: root, with rkt's
# default capabilities, a pre-start handler and a non-recursive volume.
two_apps='{"acVersion":"1.30.0","acKind":"PodManifest","apps":[
 {"name":"front","image":{"name":"example.com/front"},"app":{
   "exec":["/bin/sh","-c","id -u; id -g; id -G; echo MODE=$MODE; echo app=$AC_APP_NAME; hostname; pwd; cat /data/in; echo s > /scratch/f && echo scratch-ok; cat /etc/app.conf; echo from-app >> /etc/app.conf; test -d /var/cache/app && echo implicit-ok; cat /etc/resolv.conf; grep db.example /etc/hosts; touch /data/written"],
   "user":"web","group":"web","workingDirectory":"/srv","supplementaryGIDs":[3000],
   "environment":[{"name":"MODE","value":"prod"}],
   "mountPoints":[{"name":"data","path":"/data"},{"name":"cfg","path":"/etc/app.conf"},{"name":"cache","path":"/var/cache/app"}]},
  "mounts":[{"volume":"data","path":"/data"},{"volume":"scratch","path":"/scratch"}]},
 {"name":"back","image":{"name":"example.com/back"},"app":{
   "exec":["/bin/sh","-c","until [ -e /data/written ]; do sleep 0.1; done; grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo; grep CapBnd /proc/self/status; cat /nr/top; test -e /nr/sub/beneath || echo nonrecursive-ok; echo back >&2; exit 3"],
   "eventHandlers":[{"name":"pre-start","exec":["/bin/sh","-c","id -u > /data/pre-start"]}],
   "isolators":[{"name":"resource/memory","value":{"limit":"200Mi"}},{"name":"resource/cpu","value":{"limit":"1500m"}}]},
  "mounts":[{"volume":"data","path":"/data"},{"volume":"nr","path":"/nr"}]}],
 "volumes":[{"name":"data","kind":"host","source":"'"$work/data"'"},
            {"name":"cfg","kind":"host","source":"'"$work/app.conf"'"},
            {"name":"nr","kind":"host","source":"'"$work/nested"'","recursive":false},
            {"name":"scratch","kind":"empty","mode":"0777"}]}'
make_pod "$two_apps" front back
# As rkt run --dns=192.0.2.53 --hosts-entry=192.0.2.7=db.example leaves them.
mkdir -p "$pod/stage1/rootfs/etc" && echo "nameserver 192.0.2.53" > "$pod/stage1/rootfs/etc/rkt-resolv.conf"
printf '127.0.0.1 localhost\n192.0.2.7 db.example\n' > "$pod/stage1/rootfs/etc/rkt-hosts"
entry run --net=none --local-config=/etc/rkt --hostname=web-pod --some-future-flag=1 \
	--dns-conf-mode=resolv=stage0,hosts=stage0 "$uuid" > "$work/out" 2> "$work/err"
rc=$?
check "run exits with the pod's status: the failing app's 3 (got $rc)" test $rc = 3
check "rkt/status/front holds 0" test "$(cat "$pod/stage1/rootfs/rkt/status/front" 2>&1)" = 0
check "rkt/status/back holds 3" test "$(cat "$pod/stage1/rootfs/rkt/status/back" 2>&1)" = 3
check "pid holds the run entrypoint's process id" grep -Eqx '[0-9]+' "$pod/pid"
check "supervisor-status points at ready" test "$(readlink "$pod/stage1/rootfs/rkt/supervisor-status")" = ready
check "rkt/env/front lists the app's environment" \
	grep -qx MODE=prod "$pod/stage1/rootfs/rkt/env/front"
check "with AC_APP_NAME and HOME from the app's passwd" \
	sh -c "grep -qx AC_APP_NAME=front '$pod/stage1/rootfs/rkt/env/front' && grep -qx HOME=/home/web '$pod/stage1/rootfs/rkt/env/front'"
out=$(cat "$work/out")
check "front runs as its user and group (1000)" test "$(echo "$out" | head -2 | tr '\n' ' ')" = "1000 1000 "
check "with its environment" grep -qx MODE=prod <<< "$out"
check "and AC_APP_NAME" grep -qx app=front <<< "$out"
check "--hostname sets the pod's hostname" grep -qx web-pod <<< "$out"
check "in its working directory" grep -qx /srv <<< "$out"
check "the host volume is mounted at its path" grep -qx in-data <<< "$out"
check "and the app's writes reach the host, as its user" test "$(stat -c %u "$work/data/written" 2>&1)" = 1000
check "the empty volume is writable" grep -qx scratch-ok <<< "$out"
check "a mountPoint takes the volume of its name: a host file, read (got $(grep -c app-conf <<< "$out"))" grep -qx app-conf <<< "$out"
check "and written through to the host" test "$(tail -1 "$work/app.conf")" = from-app
check "a mountPoint with no volume gets an implicit empty one" grep -qx implicit-ok <<< "$out"
check "made in the pod directory as APP-NAME" test -d "$pod/clearvm/volumes/front-cache"
check "supplementaryGIDs join the app's groups ($(sed -n 3p <<< "$out"))" grep -qw 3000 <<< "$(sed -n 3p <<< "$out")"
check "--dns-conf-mode resolv=stage0: the app's /etc/resolv.conf is rkt's" grep -qx 'nameserver 192.0.2.53' <<< "$out"
check "hosts=stage0: and its /etc/hosts" grep -qx '192.0.2.7 db.example' <<< "$out"
check "neither written into the app's root" \
	test ! -s "$pod/stage1/rootfs/opt/stage2/front/rootfs/etc/resolv.conf" -a -z "$(grep db.example "$pod/stage1/rootfs/opt/stage2/front/rootfs/etc/hosts")"
check "a root app is bounded to rkt's default capabilities" grep -qx $'CapBnd:\t00000000a80425fb' <<< "$out"
check "the pre-start handler ran before the app, as root" test "$(cat "$work/data/pre-start" 2>&1)" = 0
check "a non-recursive volume: its directory is there" grep -qx top <<< "$out"
check "without the mount beneath it" grep -qx nonrecursive-ok <<< "$out"
mem=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' <<< "$out")
check "resource/memory 200Mi gives the VM 200 MiB + the overhead (MemTotal ${mem:-?} kB)" \
	test "${mem:-0}" -gt $((200 * 1024)) -a "${mem:-0}" -lt $((264 * 1024))
check "resource/cpu 1500m gives 2 vCPUs" grep -qx 2 <<< "$out"
check "the apps' stderr comes out on run's stderr" grep -qx back "$work/err"
check "--net=none prints no warning" test -z "$(grep -v '^back$' "$work/err")"

entry gc --debug --local-config /etc/rkt "$uuid"; rc=$?
check "gc succeeds (got $rc)" test $rc = 0
check "and removes the empty volume clearvm made in the pod directory" test ! -e "$pod/clearvm"
check "but leaves the host volume alone" test -f "$work/data/in"

# --- --net: default is passt's user-mode network (eth0 with the host's address, as clearvm's
# own default), none loopback only; other networks are refused.
one_app() { # one_app EXEC_JSON
	printf '{"acVersion":"1.30.0","acKind":"PodManifest","apps":[{"name":"solo","image":{"name":"x"},"app":{"exec":%s}}]}' "$1"
}
make_pod "$(one_app '["/bin/sh","-c","cat /sys/class/net/lo/operstate; echo $(ls /sys/class/net); ip addr show eth0 2> /dev/null | grep \"inet \"; exit 0"]')" solo
out=$(entry run --net=default "$uuid" 2> "$work/err"); rc=$?
check "--net=default runs (got $rc: $(head -c 300 "$work/err"))" test $rc = 0
check "and says nothing" test ! -s "$work/err"
check "the pod sees eth0 and lo (got '$(echo "$out" | sed -n 2p)')" test "$(echo "$out" | sed -n 2p)" = "eth0 lo"
check "lo is up" test "$(echo "$out" | head -1)" = unknown
host_addr=$(ip -4 -o addr show dev "$(ip -4 route show default | awk '{print $5; exit}')" | awk '{print $4; exit}')
check "eth0 has the host's address ($host_addr)" test "$(echo "$out" | sed -n 3p | awk '{print $2}')" = "$host_addr"
check "and no passt is left" test -z "$(pgrep '^passt')"
out=$(entry run --net=none "$uuid" 2> "$work/err"); rc=$?
check "--net=none: lo only (got '$(echo "$out" | sed -n 2p)', $rc)" test "$(echo "$out" | sed -n 2p)" = lo -a $rc = 0
entry run --net=mynet "$uuid" 2> "$work/err"; rc=$?
check "--net=mynet is refused (got $rc)" test $rc != 0
check "with one clear line" test "$(wc -l < "$work/err")" = 1 -a -n "$(grep 'mynet' "$work/err")"

# --- rkt run --port NAME:HOSTPORT: the pod manifest's ports forward to the app's ports of
# those names through passt; without the default network they are refused.
make_pod '{"acVersion":"1.30.0","acKind":"PodManifest","apps":[{"name":"web","image":{"name":"x"},"app":{
   "exec":["/bin/sh","-c","printf \"HTTP/1.0 200 OK\\r\\nContent-Length: 14\\r\\n\\r\\nserved by pod\\n\" | nc -l -p 80"],
   "ports":[{"name":"http","protocol":"tcp","port":80}]}}],
 "ports":[{"name":"http","hostPort":18085,"hostIP":"127.0.0.1"}]}' web
entry run --net=default "$uuid" > /dev/null 2> "$work/err" &
pid=$!
check "a pod's port forward reaches the app's port" \
	wait_until 60 sh -c "busybox wget -qO '$work/fetched' http://127.0.0.1:18085/ 2> /dev/null"
wait $pid; rc=$?
check "with its bytes, and the pod ends (got $rc: $(head -c 200 "$work/err"))" \
	test "$(cat "$work/fetched")" = "served by pod" -a $rc = 0
entry run --net=none "$uuid" 2> "$work/err"; rc=$?
check "a port forward without the default network is refused with one line (got $rc)" \
	test $rc != 0 -a "$(wc -l < "$work/err")" = 1

# --- --interactive: stdin reaches the app.
make_pod "$(one_app '["/bin/sh","-c","read l; echo got:$l"]')" solo
out=$(echo hello | entry run --interactive --net=none "$uuid" 2> "$work/err"); rc=$?
check "--interactive passes stdin through (got '$out', $rc: $(head -c 200 "$work/err"))" test "$out" = got:hello -a $rc = 0

# --- --interactive from a terminal (script(1) gives run a pty): the app gets a terminal.
make_pod "$(one_app '["/bin/sh","-c","test -t 0 && test -t 1 && echo on-a-tty; exit 6"]')" solo
export -f entry
pod=$pod uuid=$uuid SHELL=/bin/bash script -qec 'entry run --interactive --net=none "$uuid"' /dev/null \
	< /dev/null > "$work/out" 2>&1; rc=$?
check "--interactive from a terminal: the app runs on a tty ($(tr '\r\n' '  ' < "$work/out" | head -c 200))" \
	grep -q on-a-tty "$work/out"
check "and its status comes back (6, got $(cat "$pod/stage1/rootfs/rkt/status/solo" 2>&1))" \
	test "$(cat "$pod/stage1/rootfs/rkt/status/solo" 2>&1)" = 6

# --- An image without /proc, /sys, /dev or /tmp gets them, as under rkt's own stage1.
make_pod '{"acKind":"PodManifest","apps":[{"name":"solo","image":{"name":"x"},"app":{"exec":["/bin/sh","-c","grep -c ^Name: /proc/self/status; ls /sys | grep -c kernel; test -c /dev/null && echo dev-ok; echo t > /tmp/t && echo tmp-ok; grep CapBnd /proc/self/status; grep -c localhost /etc/hosts"],
 "isolators":[{"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_NET_ADMIN","CAP_KILL"]}}]}}]}' solo
rm -rf "$pod/stage1/rootfs/opt/stage2/solo/rootfs/"{proc,sys,dev,tmp,etc/hosts}
out=$(entry run --net=none "$uuid" 2> "$work/err"); rc=$?
check "an image without /proc /sys /dev /tmp: all four work ($(echo $out), $rc)" test "$(echo $out | cut -d' ' -f1-4)/$rc" = "1 1 dev-ok tmp-ok/0"
check "capabilities-retain-set: the app's bounding set is exactly those ($(grep CapBnd <<< "$out"))" \
	grep -qx $'CapBnd:\t0000000000001020' <<< "$out"
check "an image without /etc/hosts gets rkt's fallback (localhost)" test "$(tail -1 <<< "$out")" -ge 1

# --- readOnlyRootFS (rkt run --readonly-rootfs): the app's root cannot be written.
make_pod '{"acKind":"PodManifest","apps":[{"name":"solo","image":{"name":"x"},"readOnlyRootFS":true,"app":{"exec":["/bin/sh","-c","touch /ro-probe 2>&1; echo t > /tmp/t && echo tmp-ok; grep CapBnd /proc/self/status"]}}]}' solo
out=$(entry run --net=none --disable-capabilities-restriction "$uuid" 2> "$work/err"); rc=$?
check "--insecure-options=capabilities: the app keeps every capability ($(grep CapBnd <<< "$out"))" \
	grep -qx $'CapBnd:\t000001ffffffffff' <<< "$out"
check "readOnlyRootFS: writes to the root fail with EROFS (got '$(echo $out)')" grep -q 'Read-only file system' <<< "$out"
check "and nothing reached the host, while /tmp stays writable" \
	test ! -e "$pod/stage1/rootfs/opt/stage2/solo/rootfs/ro-probe" -a -n "$(grep -x tmp-ok <<< "$out")"

# --- An app that fails stops the pod: the others get SIGTERM, as under rkt's own stage1.
make_pod '{"acKind":"PodManifest","apps":[
 {"name":"bad","image":{"name":"x"},"app":{"exec":["/bin/sh","-c","exit 4"]}},
 {"name":"long","image":{"name":"y"},"app":{"exec":["/bin/sleep","300"]}}]}' bad long
start=$SECONDS
entry run --net=none "$uuid" > /dev/null 2>&1; rc=$?
check "a pod whose app fails ends with its status (4, got $rc) in well under the other's 300 s ($((SECONDS - start)) s)" \
	test $rc = 4 -a $((SECONDS - start)) -lt 120
check "and the failing app's status is its own (4, got $(cat "$pod/stage1/rootfs/rkt/status/bad" 2>&1))" \
	test "$(cat "$pod/stage1/rootfs/rkt/status/bad" 2>&1)" = 4
check "the other app was stopped cleanly by SIGTERM: 0, as rkt reports it (got $(cat "$pod/stage1/rootfs/rkt/status/long" 2>&1))" \
	test "$(cat "$pod/stage1/rootfs/rkt/status/long" 2>&1)" = 0

# --- --private-users is refused with one line (the VM is the pod's isolation).
make_pod "$(one_app '["/bin/true"]')" solo
entry run --net=none --private-users=65536:65536 "$uuid" 2> "$work/err"; rc=$?
check "--private-users is refused (got $rc) with one line naming it" \
	test $rc = 125 -a "$(wc -l < "$work/err")" = 1 -a -n "$(grep -- '--private-users' "$work/err")"

# --- Pod-level errors: one line, non-zero, nothing left running.
make_pod '{"acKind":"PodManifest","apps":[' solo
entry run --net=none "$uuid" 2> "$work/err"; rc=$?
check "a bad manifest: non-zero (got $rc) and one line" test $rc != 0 -a "$(wc -l < "$work/err")" = 1
check "and no status files" test -z "$(ls "$pod/stage1/rootfs/rkt/status")"
make_pod "$(one_app '["/bin/true"]')" other
entry run --net=none "$uuid" 2> "$work/err"; rc=$?
check "a missing app rootfs: non-zero (got $rc), named" test $rc != 0 -a -n "$(grep 'solo' "$work/err")"
make_pod '{"acKind":"PodManifest","apps":[{"name":"solo","image":{"name":"x"},"app":{"exec":["/bin/true"],"isolators":[{"name":"os/linux/seccomp-retain-set","value":{"set":["@rkt/default-whitelist"]}}]}}]}' solo
entry run --net=none "$uuid" 2> "$work/err"; rc=$?
check "an unsupported isolator: non-zero (got $rc), named" test $rc != 0 -a -n "$(grep 'seccomp-retain-set' "$work/err")"
make_pod "$(one_app '["/bin/true"]')" solo
entry run --net=none --dns-conf-mode=resolv=cni,hosts=stage0 "$uuid" 2> "$work/err"; rc=$?
check "a --dns-conf-mode clearvm does not know: non-zero (got $rc), one line" \
	test $rc != 0 -a "$(wc -l < "$work/err")" = 1 -a -n "$(grep 'dns-conf-mode' "$work/err")"
entry app-add --debug=false --app=x --uuid="$uuid" 2> "$work/err"; rc=$?
check "app add is refused with a reason (got $rc)" test $rc != 0 -a -s "$work/err"

# --- enter: a command inside a running app, with its stdio and exit status.
make_pod '{"acVersion":"1.30.0","acKind":"PodManifest","apps":[
 {"name":"front","image":{"name":"x"},"app":{"exec":["/bin/sleep","100"],"user":"web"}},
 {"name":"back","image":{"name":"y"},"app":{"exec":["/bin/sleep","100"]}}]}' front back
entry run --net=none "$uuid" > /dev/null 2>&1 &
runner=$!
for _ in $(seq 600); do [ -L "$pod/stage1/rootfs/rkt/supervisor-status" ] && break; sleep 0.1; done
pid=$(cat "$pod/pid" 2>/dev/null)
out=$(entry enter --pid="$pid" --appname=front -- /bin/sh -c 'cat /etc/marker; id -u; echo to-err >&2; exit 7' \
	2> "$work/err" < /dev/null); rc=$?
check "enter runs the command in the app's root (got '$(echo $out)')" test "$(echo "$out" | head -1)" = front
check "as root" test "$(echo "$out" | sed -n 2p)" = 0
check "with its exit status (7, got $rc)" test $rc = 7
check "and its stderr apart" test "$(cat "$work/err")" = to-err
out=$(echo piped | entry enter --pid="$pid" --appname=back -- /bin/sh -c 'cat /etc/marker; cat'); rc=$?
check "enter reaches another app's root, and stdin with its EOF (got '$(echo $out)', $rc)" \
	test "$(echo $out)" = "back piped" -a $rc = 0
# From a terminal (script(1) gives enter a pty): the command runs on a pty of the terminal's size.
pod=$pod pid=$pid SHELL=/bin/bash script -qec 'stty rows 33 cols 101; entry enter --pid="$pid" --appname=front -- /bin/sh -c "test -t 0 && test -t 1 && test -t 2 && echo enter-on-a-tty; stty size; exit 5"' /dev/null \
	< /dev/null > "$work/out" 2>&1; rc=$?
check "enter from a terminal: the command runs on a tty ($(tr '\r\n' '  ' < "$work/out" | head -c 200))" \
	grep -q enter-on-a-tty "$work/out"
check "of the terminal's size (33 101)" sh -c "tr -d '\r' < '$work/out' | grep -q '^33 101'"
check "and its status comes back through script (5, got $rc)" test $rc = 5
out=$(entry enter --pid="$pid" --appname=front -- /bin/sh -c 'ps -o comm | grep -c sleep' < /dev/null)
check "the apps keep running beside the entered command (2 sleeps seen, got $out)" test "$out" = 2
entry enter --pid="$pid" --appname=nope -- /bin/true 2> "$work/err" < /dev/null; rc=$?
check "enter into an app the pod lacks: 125 (got $rc) and a reason" test $rc = 125 -a -n "$(grep nope "$work/err")"
# Clients that misbehave on the enter socket: none may hold the I/O thread or kill the pod.
# (1) stderr a character device that is not a terminal, for an unknown app; (2) four fds
# instead of three (each a file whose name the VMM's fd table would show).
vmm_pid=$(pgrep -P "$pid" -x clearvm 2>/dev/null || echo "$pid")
sock=$(grep -o '@clearvm-enter-[0-9a-f]*' /proc/net/unix | head -1)
echo probe > "$work/fd-probe"
python3 - "${sock#@}" "$work/fd-probe" > "$work/clients" 2>&1 <<'PY'
import array, os, socket, struct, sys
name, probe = sys.argv[1], sys.argv[2]
def client():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0" + name)
    return s
def request(app):
    body = app.encode() + b"\0" + b"/bin/true\0"
    return struct.pack("<IHHHH", len(body), 1, 0, 0, 0) + body
def status(s):
    s.settimeout(60)
    data = b""
    while len(data) < 4:
        got = s.recv(4 - len(data))
        if not got: return "closed"
        data += got
    return str(struct.unpack("<I", data)[0])
null = os.open("/dev/null", os.O_RDWR)
s = client()
s.sendmsg([request("nope")], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [null, null, null]))])
print("devnull", status(s))
fds = [os.open(probe, os.O_RDONLY) for _ in range(4)]
s = client()
s.sendmsg([request("nope")], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
print("four", status(s))
PY
check "a client whose stderr is /dev/null, for an unknown app, gets 125 (the pod lives on)" \
	grep -qx 'devnull 125' "$work/clients"
check "a client sending four fds gets 125" grep -qx 'four 125' "$work/clients"
check "and none of the four stays open in the VMM" \
	sh -c "! ls -l /proc/$vmm_pid/fd 2>/dev/null | grep -q fd-probe"
check "the VMM is still running after them all" kill -0 "$vmm_pid"
entry enter --pid="$pid" --appname=front -- /no/such/cmd 2> "$work/err" < /dev/null; rc=$?
check "enter with a missing command: 127 (got $rc)" test $rc = 127
entry stop "$uuid"
wait $runner; rc=$?
check "the pod still stops cleanly after enter sessions (143, got $rc)" test $rc = 143
entry enter --pid="$pid" --appname=front -- /bin/true 2> "$work/err" < /dev/null; rc=$?
check "enter into a pod that ended fails with a reason (got $rc)" test $rc != 0 -a -s "$work/err"

# --- stop: graceful (the apps get SIGTERM) and --force (the VM dies at once).
make_pod "$(one_app '["/bin/sleep","100"]')" solo
entry run --net=none "$uuid" > /dev/null 2>&1 &
runner=$!
for _ in $(seq 600); do [ -L "$pod/stage1/rootfs/rkt/supervisor-status" ] && break; sleep 0.1; done
check "a long pod reaches ready" test -L "$pod/stage1/rootfs/rkt/supervisor-status"
check "pid names the running entrypoint" \
	sh -c "readlink /proc/$(cat "$pod/pid")/exe | grep -q '$pod/stage1/rootfs/clearvm\$'"
check "and holds the pod's lock while it runs" sh -c "! flock -n '$pod' true"
# An enter client that connects and says nothing must not keep the stop from reaching the apps:
# it stays connected until the VMM is gone.
sock=$(grep -o '@clearvm-enter-[0-9a-f]*' /proc/net/unix | head -1)
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0" + sys.argv[1])
print("connected", flush=True)
s.recv(4)' "${sock#@}" > "$work/stalled" 2>&1 &
stalled=$!
check "(a silent enter client is connected)" wait_until 30 grep -qx connected "$work/stalled"
entry stop "$uuid"; rc=$?
check "stop succeeds (got $rc)" test $rc = 0
wait $runner; rc=$?
check "the pod ends with the app's SIGTERM status 143, a silent enter client connected (got $rc)" test $rc = 143
wait $stalled
check "rkt/status/solo holds 143" test "$(cat "$pod/stage1/rootfs/rkt/status/solo" 2>&1)" = 143
check "and the lock is released" flock -n "$pod" true

make_pod "$(one_app '["/bin/sh","-c","trap \"\" TERM; sleep 100"]')" solo
entry run --net=none "$uuid" > /dev/null 2>&1 &
runner=$!
for _ in $(seq 600); do [ -L "$pod/stage1/rootfs/rkt/supervisor-status" ] && break; sleep 0.1; done
entry stop --force "$uuid"; rc=$?
check "stop --force succeeds (got $rc)" test $rc = 0
wait $runner; rc=$?
check "and the pod is killed at once (got $rc)" test $rc = 137
check "no VMM process is left" sh -c "! kill -0 $(cat "$pod/pid") 2> /dev/null"

tap_done
