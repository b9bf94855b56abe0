#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes a small container root filesystem from Debian's busybox-static: the demo's and the
# tests' rootfs. Usage: mkrootfs.sh DIR [STAMP]
set -euo pipefail
dir=$1
busybox=/bin/busybox
file -L "$busybox" | grep -q 'statically linked' || {
	echo "mkrootfs: $busybox is not static (apt-get install busybox-static)" >&2
	exit 1
}
rm -rf "$dir"
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,home}
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ -e "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
echo clearvm > "$dir/etc/hostname"
# As an image has them: clearvm binds its own over these (the network's nameservers and names).
: > "$dir/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n' > "$dir/etc/hosts"
[ $# -lt 2 ] || touch "$2"
