#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The differential suite: every command of diff-cases.txt runs once under `chroot DIR` and once
# under `clearvm --rootfs DIR`, once with the root over 9p and once over virtio-fs (copies of
# one rootfs, one boot each per identity); their stdout, stderr and statuses must match
# chroot's byte for byte, and so must the files they leave.
# Runs where tests/with-kvm decided, as root (chroot needs it). TAP output.
# Usage: diff.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
source "$here/../harness/tap.sh"

# On a tmpfs when there is one: 10,000-entry directories copied twice are slow on the test
# bed's 9p /tmp, and the suite is about clearvm's file server, not the one underneath.
work=$(mktemp -d /dev/shm/clearvm-diff.XXXXXX 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/clearvm-diff.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One rootfs: busybox, fsprobe, a user, host-made data, the cases and their runner.
src=$work/src
cp -a "$build/rootfs" "$src"
cp "$build/tests/fsprobe" "$src/bin/fsprobe"
echo 'u1:x:1000:1000:User One:/home/u1:/bin/sh' >> "$src/etc/passwd"
printf 'g1:x:1000:\nextra:x:2000:u1\n' >> "$src/etc/group"
mkdir -p "$src/home/u1" "$src/data/many" "$src/w" "$src/diff"
chown 1000:1000 "$src/home/u1"
chmod 1777 "$src/w"
echo hello > "$src/data/hello"
head -c 300000 /dev/urandom > "$src/data/blob"
(cd "$src/data/many" && seq -f 'f%g' 0 9999 | xargs touch && echo last > f9999)
grep -v '^#' "$here/diff-cases.txt" > "$src/diff/root"
grep -v '^#' "$here/diff-cases-user.txt" > "$src/diff/u1"
# Each case in its own shell, framed on both streams so that a difference names its case.
cat > "$src/diff/run" <<'RUN'
tab=$(printf '\t')
while IFS=$tab read -r name cmd; do
	[ -n "$name" ] || continue
	echo "=== $name" ; echo "=== $name" >&2
	/bin/sh -c "$cmd" < /dev/null
	echo "=== $name: status $?"
done < "/diff/$1"
RUN

# Runs the whole list as identity $1 ("root" or "u1") under chroot, and under clearvm with
# each file system, each in its own copy of the rootfs.
run_all() {
	local who=$1 chroot_root=$work/chroot-$1
	cp -a "$src" "$chroot_root"
	# The host's web server (below), as each side reaches it: on loopback from the chroot, at
	# the gateway from the guest (passt maps it to the host's loopback).
	echo "http://127.0.0.1:$web_port" > "$chroot_root/diff/web"
	local spec=(--userspec=0:0 --groups=0) env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root)
	if [ "$who" = u1 ]; then
		spec=(--userspec=1000:1000 --groups=1000,2000)
		env[1]=HOME=/home/u1
	fi
	# As docker gives a container its own /dev, /proc and tmpfs /tmp: in a private mount namespace.
	unshare -m /bin/sh -c '
		r=$1; shift
		mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" && mount -t tmpfs tmp "$r/tmp" || exit 99
		umask 022
		exec env -i "$@" < /dev/null' sh "$chroot_root" "${env[@]}" \
		chroot "${spec[@]}" "$chroot_root" /bin/sh /diff/run "$who" > "$work/$who.chroot.out" 2> "$work/$who.chroot.err"
	echo $? > "$work/$who.chroot.rc"
	local user=() fs vm_root
	[ "$who" = u1 ] && user=(-u u1)
	for fs in 9p virtiofs; do
		vm_root=$work/$fs-$who
		cp -a "$src" "$vm_root"
		echo "http://$(ip -4 route show default | awk '{print $3; exit}'):$web_port" > "$vm_root/diff/web"
		"$build/clearvm" --kernel "$build/vmlinux" --initramfs "$build/initramfs.cpio" --timeout 900 \
			${CLEARVM_TEST_COLD:+--no-template} --fs "$fs" "${user[@]}" --rootfs "$vm_root" -- \
			/bin/sh /diff/run "$who" > "$work/$who.$fs.out" 2> "$work/$who.$fs.err"
		echo $? > "$work/$who.$fs.rc"
	done
}

# Compares one stream; on a difference, shows the first differing case.
same() {
	if cmp -s "$1" "$2"; then return 0; fi
	diff -a "$1" "$2" | head -20 | sed 's/^/# /'
	return 1
}

# The files each run left: type, mode, owner, links, size and content of each, never times or
# inode numbers (directory sizes depend on the file system's history, so not theirs).
tree() {
	(
		cd "$1" || exit 1
		skip=(\( -path ./diff -o -path ./proc -o -path ./dev -o -path ./tmp \) -prune -o)
		find . "${skip[@]}" ! -type f -printf '%p %y %m %U %G %n %l\n'
		find . "${skip[@]}" -type f -printf '%p %y %m %U %G %n %s\n'
		find . "${skip[@]}" -type f -exec md5sum {} +
	) | sort
}

# A web server on the host's loopback serving host-made bytes, for the network client cases.
web_port=18090
mkdir -p "$work/www"
cp "$src/data/blob" "$work/www/blob"
busybox httpd -f -p "127.0.0.1:$web_port" -h "$work/www" &
web=$!
trap 'kill $web 2> /dev/null; rm -rf "$work"' EXIT
check "(the host's web server is up)" wait_until 20 busybox wget -qO /dev/null "http://127.0.0.1:$web_port/blob"

for who in root u1; do
	run_all "$who"
	check "$who: the chroot run itself worked (status $(cat "$work/$who.chroot.rc"))" test "$(cat "$work/$who.chroot.rc")" = 0
	grep '^=== .*: status' "$work/$who.chroot.out" > "$work/$who.chroot.rcs"
	tree "$work/chroot-$who" > "$work/$who.chroot.tree"
	for fs in 9p virtiofs; do
		vm=$work/$who.$fs
		check "$who, $fs: clearvm ran the list (status $(cat "$vm.rc"))" test "$(cat "$vm.rc")" = 0
		check "$who, $fs: stdout of every case is the same under clearvm as under chroot" same "$work/$who.chroot.out" "$vm.out"
		check "$who, $fs: stderr of every case is the same" same "$work/$who.chroot.err" "$vm.err"
		grep '^=== .*: status' "$vm.out" > "$vm.rcs"
		check "$who, $fs: every case's status is the same" same "$work/$who.chroot.rcs" "$vm.rcs"
		tree "$work/$fs-$who" > "$vm.tree"
		check "$who, $fs: the files left behind are the same (type, mode, owner, size, content)" same "$work/$who.chroot.tree" "$vm.tree"
		check "$who, $fs: the cases really ran ($(grep -c '^=== .*: status' "$vm.out") statuses)" \
			test "$(grep -c '^=== .*: status' "$vm.out")" = "$(grep -c . "$src/diff/$who")"
	done
done
tap_done
