#!/usr/bin/env bash
# Installs what is missing, builds ccmesh and runs every test (unit, integration, e2e), then
# the fuzzers for a bounded time.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Query]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The real Claude Code CLI for the e2e tests; CCMESH_SKIP_CLAUDE=1 skips it (they then skip).
[ "${CCMESH_SKIP_CLAUDE:-0}" = 1 ] || scripts/install-claude.sh >/dev/null
build_dir=${CCMESH_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCMESH_WERROR=ON >/dev/null
cmake --build "$build_dir" -j2
ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
# libFuzzer targets (clang), 20 s each; CCMESH_SKIP_FUZZ=1 skips them.
[ "${CCMESH_SKIP_FUZZ:-0}" = 1 ] || scripts/fuzz.sh
