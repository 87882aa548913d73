#!/usr/bin/env bash
# Measures ccmesh beside its limits in one run: builds a Release tree (build-release), runs
# every benchmark program of bench/ on loopback, prints one markdown table and writes the
# same figures as JSON to bench/results/latest.json (each program's own output lands next
# to it, what it said on stderr in build-release/bench-logs/). Every program bounds its own
# counts and run time, and the script gives all of them together at most 20 minutes (the
# fleet program, a thousand simulated workers and a million names, takes about 5 of them).
# docs/BENCHMARKS.md explains each figure and its limit.
# Usage: scripts/bench.sh [--smoke]   (--smoke: tiny counts; proves the programs work)
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=()
if [ "${1:-}" = "--smoke" ]; then
  smoke=(--smoke)
elif [ $# -gt 0 ]; then
  echo "usage: scripts/bench.sh [--smoke]" >&2
  exit 2
fi

scripts/install-deps.sh
build_dir=build-release
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j2 --target ccmesh-benchmarks >&2  # stdout is the table
bin=$build_dir/bin
results=bench/results
logs=$build_dir/bench-logs
mkdir -p "$results" "$logs"

# The programs bench/CMakeLists.txt (and the files it includes) declare, in order; the
# failover and real-CLI ones are expected even before they exist, so the table says so.
mapfile -t programs <"$build_dir/bench/programs.txt"
expected=(ccmesh-bench-failover ccmesh-bench-real-cli)

budget_end=$((SECONDS + 1200))
report_args=()  # for the report tool, in the order the programs ran
for program in "${programs[@]}"; do
  [ -n "$program" ] || continue
  left=$((budget_end - SECONDS))
  if [ "$left" -le 10 ]; then
    report_args+=(--not-measured "$program=not run: the 20-minute budget was spent")
    continue
  fi
  limit=$((left < 600 ? left : 600))
  if [ "$program" = ccmesh-bench-micro ]; then
    args=(--benchmark_format=json)
    [ ${#smoke[@]} -eq 0 ] || args+=(--benchmark_min_time=0.001)
  else
    args=("${smoke[@]}")
  fi
  echo "== $program" >&2
  status=0
  timeout --kill-after=10 "$limit" "$bin/$program" "${args[@]}" >"$results/$program.json" \
    2> >(tee "$logs/$program.log" >&2) || status=$?
  if [ "$status" -eq 0 ]; then
    report_args+=("$program=$results/$program.json")
  else
    report_args+=(--not-measured "$program=failed (exit status $status), see $logs/$program.log")
  fi
done
for program in "${expected[@]}"; do
  if ! grep -qx "$program" <<<"$(printf '%s\n' "${programs[@]}")"; then
    report_args+=(--not-measured "$program=$program is not part of the build yet")
  fi
done

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain 2>/dev/null)" ] || revision="$revision (with local changes)"
echo >&2
"$bin/ccmesh-bench-report" --out "$results/latest.json" \
  --info "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --info "command=scripts/bench.sh ${smoke[*]}" \
  --info "revision=$revision" \
  --info "cores=$(nproc)" \
  --info "memory=$(free -g | awk '/^Mem:/ {print $2}') GiB" \
  --info "kernel=$(uname -r)" \
  --info "compiler=$(g++ --version | head -1)" \
  --info "smoke=${#smoke[@]}" \
  "${report_args[@]}"
echo >&2
echo "figures written to $results/latest.json" >&2
