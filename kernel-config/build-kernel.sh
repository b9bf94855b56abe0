#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the clearvm guest kernel (an uncompressed vmlinux) from Debian's linux-source-6.1
# into a cache outside the repository, keyed by the hash of every input, and prints its path.
# A rebuild happens only when the config, the patches, this script or the source change.
# Usage: build-kernel.sh [--copy-to FILE]   (meson uses --copy-to to put it in the build tree)
set -euo pipefail
copy_to=
if [ "${1:-}" = --copy-to ]; then copy_to=$(realpath -m "$2"); fi

here=$(cd "$(dirname "$0")" && pwd)
patches() { if [ -d "$here/patches" ]; then find "$here/patches" -type f -name '*.patch' | sort; fi; }
src_tar=/usr/src/linux-source-6.1.tar.xz
cache=${CLEARVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clearvm}/kernel

if [ ! -f "$src_tar" ]; then
	echo "clearvm: kernel: $src_tar missing (apt-get install linux-source-6.1)" >&2
	exit 1
fi

# Bump RECIPE when the build steps below change what they produce.
RECIPE=1
key=$({
	echo "recipe $RECIPE"
	dpkg-query -W -f='${Version}\n' linux-source-6.1
	cat "$here/clearvm.config"
	patches | xargs -r cat
} | sha256sum | cut -c1-16)
out=$cache/$key
finish() {
	if [ -n "$copy_to" ]; then
		# A new file renamed into place: running VMs map the old one's pages and keep them.
		cmp -s "$out/vmlinux" "$copy_to" 2>/dev/null ||
			{ cp "$out/vmlinux" "$copy_to.new" && mv -f "$copy_to.new" "$copy_to"; }
	fi
	echo "$out/vmlinux"
	exit 0
}
[ -f "$out/vmlinux" ] && finish

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "clearvm: building guest kernel $key (a few minutes)" >&2
tar -xf "$src_tar" -C "$work"
cd "$work"/linux-source-6.1
for p in $(patches); do
	patch -p1 -s < "$p"
done
make -s KCONFIG_ALLCONFIG="$here/clearvm.config" allnoconfig >&2
# allnoconfig silently drops options whose dependencies are missing: fail loudly instead.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%%=*}; grep -q "^$opt=" .config && { echo "not off: $opt" >&2; missing=1; } ;;
	CONFIG_*=*) grep -qx "$line" .config || { echo "not set: $line" >&2; missing=1; } ;;
	esac
done < "$here/clearvm.config"
[ "$missing" = 0 ] || { echo "clearvm: kernel config does not apply" >&2; exit 1; }
make -s -j"$(nproc)" vmlinux >&2
mkdir -p "$out.tmp"
cp vmlinux "$out.tmp/vmlinux"
cp .config "$out.tmp/config"
strip --strip-debug "$out.tmp/vmlinux" 2>/dev/null || true
rm -rf "$out"
mv "$out.tmp" "$out"
finish
