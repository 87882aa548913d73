#!/usr/bin/env bash
# Installs what is missing, builds ccmesh and runs every test (unit, integration).
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Query]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${CCMESH_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCMESH_WERROR=ON >/dev/null
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
