# SPDX-License-Identifier: Apache-2.0
# Hostname, volumes (directories and single files, read-only or not) and a read-only root.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

echo host-secret > "$work/outside" # what a link out of the volume would name
mkdir -p "$work/vol" && echo in-volume > "$work/vol/f"
ln -s ../outside "$work/vol/esc" # on the host this would be $work/outside: host-secret
echo one-file > "$work/one.conf"
# Over 9p (the default) and over virtio-fs (--volume-fs): the same checks, and a change the
# host makes while the guest runs is seen (the guest waits for the host's go-ahead file).
for fs in 9p virtiofs; do
	rm -f "$work/vol/g" "$work/vol/ready" "$work/vol/go"
	echo before > "$work/vol/live"
	echo one-file > "$work/one.conf"
	cvm --rootfs "$root" --hostname web-1 --volume-fs $fs -v "$work/vol:/data" -v "$work/vol:/ro:ro" \
		-v "$work/one.conf:/etc/one.conf" -v "$work/one.conf:/etc/one-ro.conf:ro" -- /bin/sh -c \
		'hostname; cat /etc/hostname; cat /data/f; echo from-guest > /data/g; echo x > /ro/h 2>/dev/null || echo ro-refused
		cat /data/esc /ro/esc /data/../outside 2>&1
		cat /etc/one.conf; echo file-from-guest >> /etc/one.conf; echo x >> /etc/one-ro.conf 2>/dev/null || echo file-ro-refused
		ls /etc/one.conf/.. >/dev/null 2>&1 || echo file-only
		awk '"'"'$2 == "/data" {print "type", $3}'"'"' /proc/mounts; cat /data/live; touch /data/ready
		while [ ! -e /data/go ]; do sleep 0.1; done; cat /data/live' > "$work/out" 2> "$work/err" &
	pid=$!
	wait_until 100 test -e "$work/vol/ready"
	echo after > "$work/vol/live" && touch "$work/vol/go"
	wait $pid
	out=$(cat "$work/out")
	v="--volume-fs $fs:"
	check "$v the volume is shared over $fs (got: $(grep ^type <<< "$out"; cat "$work/err"))" grep -qx "type $fs" <<< "$out"
	check "$v --hostname sets the hostname and /etc/hostname" test "$(echo "$out" | head -2 | tr '\n' ' ')" = "web-1 web-1 "
	check "$v the rootfs's own /etc/hostname is untouched" test "$(cat "$root/etc/hostname")" = clearvm
	check "$v a volume is readable in the guest" grep -qx in-volume <<< "$out"
	check "$v and writable back to the host" test "$(cat "$work/vol/g" 2>/dev/null)" = from-guest
	check "$v a :ro volume refuses writes" grep -qx ro-refused <<< "$out"
	check "$v and nothing reached the host" test ! -e "$work/vol/h"
	check "$v a symlink in a volume pointing outside it never reaches the host file" test -z "$(grep host-secret <<< "$out")"
	check "$v a file volume is read at its path" grep -qx one-file <<< "$out"
	check "$v and written back to the host file" test "$(tail -1 "$work/one.conf")" = file-from-guest
	check "$v a :ro file volume refuses writes" grep -qx file-ro-refused <<< "$out"
	check "$v and a file volume is just that file (not a directory)" grep -qx file-only <<< "$out"
	check "$v a change the host makes while the guest runs is seen (got: $(tail -2 "$work/out" | tr '\n' ' '))" \
		test "$(tail -2 "$work/out" | tr '\n' ' ')" = "before after "
done
vols=()
for i in 1 2 3 4 5 6 7 8; do
	mkdir -p "$work/v$i" && echo "$i" > "$work/v$i/n" && vols+=(-v "$work/v$i:/v$i")
done
out=$(cvm --rootfs "$root" "${vols[@]}" -- /bin/sh -c 'cat /v1/n /v2/n /v3/n /v4/n /v5/n /v6/n /v7/n /v8/n')
check "8 volumes, the most there is, are all mounted" test "$(echo $out)" = "1 2 3 4 5 6 7 8"
out=$(cvm --rootfs "$root" --read-only -- /bin/sh -c '{ echo x > /newfile; } 2>&1; echo ok > /tmp/t && cat /tmp/t')
check "--read-only: the rootfs refuses writes with EROFS" grep -q 'Read-only file system' <<< "$out"
check "--read-only: nothing reached the host" test ! -e "$root/newfile"
check "--read-only: /tmp is still writable" grep -qx ok <<< "$out"
