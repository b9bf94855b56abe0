#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packs clearvm-stage1.aci: an appc image (manifest + rootfs/) that rkt runs pods with.
# The static clearvm binary serves every entrypoint by the name it is run under.
# Usage: mkaci.sh CLEARVM VMLINUX INITRAMFS VERSION OUT.aci
set -euo pipefail
clearvm=$1 vmlinux=$2 initramfs=$3 version=$4 out=$5

if readelf -lW "$clearvm" | grep -q 'Requesting program interpreter'; then
	echo "mkaci: $clearvm is not statically linked: rkt runs entrypoints with the host's libraries" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# rkt refuses a stage1 without these directories.
mkdir -p "$work/rootfs/rkt/status" "$work/rootfs/rkt/env" "$work/rootfs/opt/stage2"
cp "$clearvm" "$work/rootfs/clearvm"
cp "$vmlinux" "$work/rootfs/vmlinux"
cp "$initramfs" "$work/rootfs/initramfs.cpio"
entrypoints="run enter gc stop app/add app/rm app/start app/stop attach"
annotations=""
for e in $entrypoints; do
	name=rkt-${e//\//-}
	ln -s clearvm "$work/rootfs/$name"
	annotations+="    {\"name\": \"coreos.com/rkt/stage1/$e\", \"value\": \"/$name\"},"$'\n'
done
cat > "$work/manifest" <<JSON
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "clearvm.dev/rkt/stage1-clearvm",
  "labels": [
    {"name": "version", "value": "$version"},
    {"name": "arch", "value": "amd64"},
    {"name": "os", "value": "linux"}
  ],
  "annotations": [
$annotations    {"name": "coreos.com/rkt/stage1/interface-version", "value": "6"}
  ]
}
JSON
tar -C "$work" --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -cf "$out.tmp" manifest rootfs
mv -f "$out.tmp" "$out"
