#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A real Debian 12 userland for the tests (podman runs it as an image; later benchmarks run
# python3 in it): debootstrap's minbase with python3-minimal, without apt's caches, docs and
# locales, as a tar in a cache outside the repository, keyed by its recipe and debootstrap's
# version. Prints the tar's path. Needs root (or sudo) and Debian's mirror, once.
# Usage: debian-rootfs.sh [--cached]   (--cached: print the path if it is made, else exit 1)
set -euo pipefail
cache=${CLEARVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/clearvm}/debian
suite=bookworm
packages=python3-minimal
mirror=http://deb.debian.org/debian
# Bump RECIPE when the steps below change what they produce.
RECIPE=1
key=$(printf 'recipe %s\n%s\n%s\n%s\n' "$RECIPE" "$suite" "$packages" \
	"$(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null)" | sha256sum | cut -c1-16)
out=$cache/debian-$suite-$key.tar
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
[ "${1:-}" != --cached ] || exit 1

sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
command -v debootstrap > /dev/null || { echo "clearvm: debian-rootfs: debootstrap missing (apt-get install debootstrap)" >&2; exit 1; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap '$sudo rm -rf "$work"' EXIT
echo "clearvm: making a Debian $suite rootfs for the tests (a minute or two)" >&2
$sudo debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" > "$work/log" 2>&1 ||
	{ tail -5 "$work/log" >&2; echo "clearvm: debian-rootfs: debootstrap failed" >&2; exit 1; }
# What a container image leaves out: the package caches and lists, docs, manuals, locales.
$sudo sh -c 'cd "$1" && rm -rf var/cache/apt/* var/lib/apt/lists/* usr/share/doc/* usr/share/man/* \
	usr/share/locale/* var/log/*.log' sh "$work/root"
$sudo tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
$sudo chown "$(id -u):$(id -g)" "$work/rootfs.tar"
mv "$work/rootfs.tar" "$out"
echo "$out"
