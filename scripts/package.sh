#!/usr/bin/env bash
# Builds the Debian packages: ccmesh_<version>_amd64.deb (programs, shared client library,
# systemd units, /etc/ccmesh) and ccmesh-dev_<version>_amd64.deb (headers, static library,
# CMake and pkg-config files) in build/packages/. Installs what is missing and builds first.
# Usage: scripts/package.sh        (CCMESH_BUILD_DIR picks another build directory)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${CCMESH_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j2
cpack --config "$build_dir/CPackConfig.cmake" -B "$build_dir/packages"
ls -1 "$build_dir"/packages/*.deb
