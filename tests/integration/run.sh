#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the integration cases where a KVM can run them: tests/with-kvm decides. TAP output.
# Usage: run.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
# The test bed gets its own time limit, below meson's, so a stuck run ends with a message.
exec "$here/../with-kvm" --cpus 2 --memory 2048 --timeout 1200 -- "$here/cases.sh" "$build"
