# SPDX-License-Identifier: Apache-2.0
# Identity: --user from the rootfs, rootless mapping of root, and user.* xattrs only.
# Sourced by ../cases.sh: $root is a fresh copy of the test rootfs, $work this group's own.

# Identity: --user from the rootfs's passwd and group files, permissions as on the host.
echo 'u1:x:1000:1000:User One:/home/u1:/bin/sh' >> "$root/etc/passwd"
printf 'g1:x:1000:\nextra:x:2000:u1\n' >> "$root/etc/group"
mkdir -p "$root/home/u1" && chown 1000:1000 "$root/home/u1" && chmod 700 "$root/root"
cvm --rootfs "$root" -u u1 -- /bin/sh -c 'id -u; id -g; id -G; echo $HOME; touch /home/u1/mine; touch /root/no 2>/dev/null; echo $?' > "$work/out"
check "-u u1: uid, gid, groups and HOME from the rootfs" test "$(head -4 "$work/out" | tr '\n' ' ')" = "1000 1000 1000 2000 /home/u1 "
check "a file it makes is its own on the host" test "$(stat -c %u:%g "$root/home/u1/mine" 2>/dev/null)" = 1000:1000
check "it cannot write where its user may not" test "$(tail -1 "$work/out")" = 1 -a ! -e "$root/root/no"
cvm --rootfs "$root" -u nosuch -- /bin/true 2> "$work/err"; rc=$?
check "an unknown user is 125 before any VM (got $rc)" test $rc = 125

# Run by a user other than root, clearvm maps the guest's root to that user, as rootless
# containers do: files it owns look like root's inside, and what root makes there is its own.
[ -n "${CLEARVM_IN_TESTBED:-}" ] && chmod 0666 /dev/kvm # only on the test bed's throwaway /dev
as_user=(setpriv --reuid=4321 --regid=4321 --clear-groups)
if [ "$(id -u)" = 0 ] && "${as_user[@]}" test -w /dev/kvm 2>/dev/null; then
	udir=$(mktemp -d "${CLEARVM_TEST_TMPDIR:-${TMPDIR:-/tmp}}/clearvm-user.XXXXXX") && chmod 755 "$udir"
	cp -a "$build/rootfs" "$udir/root" && chown -R 4321:4321 "$udir/root"
	# clearvm and its guest files beside it: the checkout may sit where that user cannot go
	# (a clone in a 0700 directory).
	cp -L "$build/clearvm" "$build/vmlinux" "$build/initramfs.cpio" "$udir/"
	out=$("${as_user[@]}" "$udir/clearvm" --kernel "$udir/vmlinux" --initramfs "$udir/initramfs.cpio" \
		--timeout 120 --rootfs "$udir/root" -- /bin/sh -c 'id -u; stat -c "%u %g" /etc/passwd; touch /made;
		stat -c "%u %g" /made; chown 0:0 /made && echo chown-root-ok; chown 5:5 /made 2>/dev/null || echo chown-other-refused' 2>&1)
	check "the guest runs as root (uid 0)" test "$(sed -n 1p <<< "$out")" = 0
	check "the invoking user's files are root's inside" test "$(sed -n 2p <<< "$out")" = "0 0"
	check "a file root makes is root's inside" test "$(sed -n 3p <<< "$out")" = "0 0"
	check "and the invoking user's on the host" test "$(stat -c %u:%g "$udir/root/made" 2>/dev/null)" = 4321:4321
	check "chown to root inside works, chown to another user is refused" \
		test "$(sed -n '4,5p' <<< "$out" | tr '\n' ' ')" = "chown-root-ok chown-other-refused "
	rm -rf "$udir"
else
	skip "the guest's root maps to a non-root invoking user" "no unprivileged user can open /dev/kvm here"
fi

# Extended attributes: user.* ones behave as on the host file system underneath; the other
# namespaces (host security state) are refused.
cp "$build/tests/fsprobe" "$root/bin/fsprobe"
"$build/tests/fsprobe" xattr "$work/xattr-host" > "$work/xattr.host"
cvm --rootfs "$root" -- /bin/sh -c 'fsprobe xattr /xattr-guest; fsprobe xattr-other /xattr-guest' > "$work/out"
head -n "$(wc -l < "$work/xattr.host")" "$work/out" > "$work/xattr.guest"
check "user.* xattrs through clearvm behave exactly as on the host" cmp -s "$work/xattr.host" "$work/xattr.guest"
check "trusted.* and security.* cannot be set from the guest" \
	test "$(tail -2 "$work/out" | tr '\n' '|')" = "set trusted.clearvm: Operation not supported|set security.clearvm: Operation not supported|"
check "and nothing reached the host file" test "$("$build/tests/fsprobe" xattr-names "$root/xattr-guest")" = "names:"
