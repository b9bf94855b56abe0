#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the integration cases where a KVM can run them: tests/with-kvm decides. TAP output.
# Usage: run.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
exec "$here/../with-kvm" --cpus 2 --memory 2048 -- "$here/cases.sh" "$build"
