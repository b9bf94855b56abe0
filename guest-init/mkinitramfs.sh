#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packs the static guest-init as /init in a newc cpio: the whole initramfs clearvm boots with
# (the launch spec is appended at run time).
set -euo pipefail
init=$1 out=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -m 0755 "$init" "$root/init"
(cd "$root" && printf 'init\n' | cpio -o -H newc --quiet --reproducible) > "$out.tmp"
mv "$out.tmp" "$out"
