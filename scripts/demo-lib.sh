# The parts every demo script shares; sourced, not run: `source scripts/demo-lib.sh NAME`.
# It makes a run directory ($run_dir, removed at the end), keeps the pids of the processes
# the demo starts in $pids (each started with setsid, so that its whole group can be
# stopped), stops them when the script exits, and gives the narration helpers step and show.

run_dir=$(mktemp -d "/tmp/ccmesh-$1-XXXXXX")
pids=()
# Stops every process started (TERM, then KILL of its group after 10 s) and removes $run_dir.
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$run_dir"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# finish WHAT CLI-PIDS...: stops everything, checks that none of the CLI processes is left
# and says what stopped.
finish() {
  local what=$1
  shift
  cleanup
  trap - EXIT
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then echo "CLI process $pid is still running"; exit 1; fi
  done
  echo "demo finished: $what and $# CLI processes stopped"
}
