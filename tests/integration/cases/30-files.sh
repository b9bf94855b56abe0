# SPDX-License-Identifier: Apache-2.0
# The rootfs over 9p and over virtio-fs: the usual tools work, writes reach the host, symlinks
# and magic links never leave the rootfs, and a run that only reads it changes nothing.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# Each check once per file system, the second on a fresh copy of the rootfs.
for fs in 9p virtiofs; do
	if [ $fs = virtiofs ]; then
		root=$work/root-virtiofs
		cp -a "$build/rootfs" "$root" || exit 1
	fi

	# Files: what the workload writes is on the host; the usual tools work over 9p.
	cvm --fs "$fs" --rootfs "$root" -w /tmp -- /bin/sh -c '
		set -e
		mkdir -p /work/a/b && pwd > /work/cwd-was && cd /work
		echo data > a/b/file && cp a/b/file copy && mv copy moved && ln -s moved link
		ln moved hard && chmod 0640 moved && rm -r a && mkdir gone && rmdir gone
		ls -l /work > /work/listing && cat link > /work/through-link' 2> "$work/err"
	rc=$?
	check "$fs: mkdir, cp, mv, ln -s, ln, chmod, rm, ls -l succeed in the guest (got $rc)" test $rc = 0
	check "$fs: a written file is on the host" test "$(cat "$root/work/moved" 2>/dev/null)" = data
	check "$fs: a symlink made in the guest is a symlink on the host" test "$(readlink "$root/work/link")" = moved
	check "$fs: a hard link made in the guest shares the inode" test "$(stat -c %i "$root/work/moved")" = "$(stat -c %i "$root/work/hard" 2>/dev/null)"
	check "$fs: chmod reached the host" test "$(stat -c %a "$root/work/moved")" = 640
	check "$fs: rm -r removed the directory" test ! -e "$root/work/a"
	check "$fs: ls -l saw the files" grep -q ' moved$' "$root/work/listing"
	check "$fs: --workdir sets the working directory" test "$(cat "$root/work/cwd-was")" = /tmp

	# Confinement: symlinks in the rootfs resolve inside it, never on the host.
	echo host-secret > "$work/outside"
	echo guest-shadow > "$root/etc/shadow"
	ln -s /etc/shadow "$root/shadowlink"
	ln -s ../../.. "$root/up"
	ln -s ../outside "$root/escape"
	cvm --fs "$fs" --rootfs "$root" -- /bin/sh -c 'cat /shadowlink; cat /up/etc/shadow; cat /escape; cat /up/../outside; ls /up/' > "$work/out" 2>&1
	check "$fs: a link to /etc/shadow reads the rootfs's own file" test "$(grep -c guest-shadow "$work/out")" = 2
	check "$fs: no link reaches a host file outside the rootfs" test -z "$(grep host-secret "$work/out")"
	check "$fs: ../../.. resolves to the rootfs's root" grep -q '^shadowlink$' "$work/out"
	# A magic link written on the host (/proc/1/root is the host's root there) is only a name in
	# the guest, resolved in the guest's own /proc; a hard link the guest makes to a symlink that
	# points out is that symlink again, never the host file it names.
	ln -s "/proc/1/root$work/outside" "$root/magic"
	cvm --fs "$fs" --rootfs "$root" -- /bin/sh -c 'cat /magic; ln /escape /hardesc && cat /hardesc; ln /magic /hardmagic; cat /hardmagic' \
		> "$work/out" 2>&1
	check "$fs: a /proc/1/root magic link or a hard link of a link out never reads the host file" \
		test -z "$(grep host-secret "$work/out")"
	check "$fs: the hard links are symlinks in the rootfs, not links to the host file" \
		test -L "$root/hardesc" -a -L "$root/hardmagic" -a "$(stat -c %h "$work/outside")" = 1
	rm -f "$root/magic" "$root/hardesc" "$root/hardmagic"

	# Nothing is written into the rootfs that the workload did not write (a run that only reads
	# it; the stamp's time has nanoseconds, and a boot takes far longer than a clock tick).
	touch "$work/stamp"
	out=$(cvm --fs "$fs" --rootfs "$root" -- /bin/sh -c 'cat /etc/hostname; ls /bin > /dev/null && echo listed'); rc=$?
	check "$fs: (the VM ran and read the rootfs: $rc, $(echo $out))" test "$rc/$(echo $out)" = "0/clearvm listed"
	check "$fs: a run that reads the rootfs leaves it untouched" test -z "$(find "$root" -newer "$work/stamp" | head -1)"
done
