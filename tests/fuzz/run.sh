#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzes one target with libFuzzer (clang, with ASan and UBSan) for SECONDS, starting from its
# seed corpus in tests/fuzz/corpus/TARGET; inputs that found new coverage are kept in a
# temporary corpus (pass --keep to add them to the seeds). A crashing input is written to
# tests/fuzz/regressions/TARGET/, which `meson test` replays from then on: commit it with the fix.
# --jobs N fuzzes in N processes at once (libFuzzer's fork mode), sharing one corpus.
# Usage: tests/fuzz/run.sh [--keep] [--jobs N] TARGET [SECONDS]   (targets: loader virtq net p9-wire p9-server fuse-server spec launch-spec)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
keep=0 jobs=0
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1; shift ;;
	--jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
	*) break ;;
	esac
done
target=${1:?usage: run.sh [--keep] [--jobs N] TARGET [SECONDS]} seconds=${2:-60}
case $target in
loader) files="vmm/loader.c" ;;
virtq) files="vmm/virtio/virtq.c" ;;
net) files="vmm/virtio/net.c vmm/virtio/vhost_net.c vmm/virtio/mmio.c vmm/virtio/virtq.c vmm/log.c" ;;
p9-wire) files="vmm/p9/wire.c" ;;
p9-server) files="tests/fuzz/share_fixture.c vmm/p9/wire.c vmm/p9/fid.c vmm/p9/server.c vmm/p9/tree.c vmm/p9/io.c vmm/p9/xattr.c vmm/p9/confine.c vmm/log.c" ;;
fuse-server) files="tests/fuzz/share_fixture.c vmm/fuse/nodes.c vmm/fuse/server.c vmm/fuse/tree.c vmm/fuse/io.c vmm/p9/wire.c vmm/p9/confine.c vmm/log.c" ;;
spec) files="vmm/spec.c guest-init/spec_read.c -lfdt" ;;
launch-spec) files="guest-init/spec_read.c -lfdt" ;;
*) echo "run.sh: no target $target (loader, virtq, net, p9-wire, p9-server, fuse-server, spec, launch-spec)" >&2; exit 2 ;;
esac
if ! command -v clang > /dev/null; then
	echo "run.sh: libFuzzer needs clang: apt-get install clang" >&2
	exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2046
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$work/fuzz" "$here/fuzz_${target//-/_}.c" $(for f in $files; do case $f in -*) echo "$f" ;; *) echo "$src/$f" ;; esac; done)
mkdir -p "$work/corpus" "$here/regressions/$target"
cp "$here/corpus/$target"/* "$work/corpus/"
fork=()
if [ "$jobs" -gt 0 ]; then fork=(-fork="$jobs"); fi
"$work/fuzz" "${fork[@]}" -max_total_time="$seconds" -print_final_stats=1 -max_len=65536 \
	-artifact_prefix="$here/regressions/$target/" "$work/corpus" 2>&1 |
	grep -E '^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|Test unit written|cov:' | tail -n 12
echo "corpus: $(ls "$work/corpus" | wc -l) inputs"
if [ "$keep" = 1 ]; then cp -n "$work/corpus"/* "$here/corpus/$target/"; fi
