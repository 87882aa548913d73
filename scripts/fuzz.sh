#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang and runs each for a bounded time,
# printing how many inputs it tried. Exits non-zero if a fuzzer finds a crash, a leak or
# undefined behaviour (the input that did it is kept as build-fuzz/<target>-crash-*).
# Skipped (exit 0) when clang++ is not installed.
# Usage: scripts/fuzz.sh [seconds per target]   (default 20, or $CCMESH_FUZZ_SECONDS)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${CCMESH_FUZZ_SECONDS:-20}}
if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found; fuzzers skipped"
  exit 0
fi
build_dir=${CCMESH_FUZZ_BUILD_DIR:-build-fuzz}
cmake -S tests/fuzz -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j2 --target fuzz_codec fuzz_stream_json >/dev/null

for target in fuzz_codec fuzz_stream_json; do
  corpus="$build_dir/corpus/$target"
  mkdir -p "$corpus"
  seeds=()
  [ -d "tests/fuzz/seeds/$target" ] && seeds=("tests/fuzz/seeds/$target")
  log="$build_dir/$target.log"
  if ! "$build_dir/bin/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$build_dir/$target-" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
    echo "fuzz: $target FOUND A FAILURE (log: $log)"
    tail -n 40 "$log"
    exit 1
  fi
  runs=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 | awk '{print $2}')
  corpus_size=$(find "$corpus" -type f | wc -l)
  echo "fuzz: $target: ${runs:-?} inputs in ${seconds} s, corpus ${corpus_size}, nothing found"
done
