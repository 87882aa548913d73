#!/usr/bin/env bash
# The main job, end to end on one machine: installs what is missing, builds, starts a broker
# and two workers on loopback with the mock CLI, runs the sessions of config/sessions.conf,
# queries and streams, manages sessions at runtime, balances a pool, kills a worker and
# watches its session answer from the other one with its conversation, then stops
# everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target ccmesh-broker ccmesh-worker ccmesh ccmesh-mock-cli
bin=$root/build/bin

source scripts/demo-lib.sh demo

step "start a broker on free loopback ports, with the sessions of config/sessions.conf"
setsid "$bin/ccmesh-broker" --frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*' \
  --sessions config/sessions.conf --ready-file "$run_dir/broker.ready" --http 127.0.0.1:0 \
  >"$run_dir/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do [ -s "$run_dir/broker.ready" ] && break; sleep 0.05; done
frontend=$(sed -n 's/^frontend=//p' "$run_dir/broker.ready")
backend=$(sed -n 's/^backend=//p' "$run_dir/broker.ready")
[ -n "$frontend" ] || { echo "broker did not start:"; cat "$run_dir/broker.log"; exit 1; }
http=$(sed -n 's/^http=//p' "$run_dir/broker.ready")
echo "frontend $frontend, backend $backend"
echo "status page: $http/   (metrics: $http/metrics, live events: $http/events)"
export CCMESH_BROKER=$frontend

step "start two workers, each with its own home (transcripts live there)"
for w in worker-a worker-b; do
  mkdir -p "$run_dir/$w"
  HOME=$run_dir/$w setsid "$bin/ccmesh-worker" --broker "$backend" --id "$w" --capacity 8 \
    >"$run_dir/$w.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 200); do
  n=$("$bin/ccmesh" status --json 2>/dev/null | grep -o '"id":"worker-' | wc -l || true)
  [ "$n" = 2 ] && break
  sleep 0.05
done
show "$bin/ccmesh" status

step "the sessions of config/sessions.conf are placed as soon as a worker joins"
for _ in $(seq 200); do
  idle=$("$bin/ccmesh" list --json | grep -o '"state":"idle"' | wc -l || true)
  [ "$idle" = 3 ] && break
  sleep 0.05
done
show "$bin/ccmesh" list
show "$bin/ccmesh" count

step "query a session by name, then again: it remembers"
show "$bin/ccmesh" query code_reviewer "Please review main.cpp"
show "$bin/ccmesh" query code_reviewer "And the tests?"
show "$bin/ccmesh" query code_reviewer /history

step "stream an answer as it is produced"
show "$bin/ccmesh" query assistant "/sleep 1000" --stream

step "start a session at runtime, look at it, terminate it"
show "$bin/ccmesh" start helper --system-prompt "You answer in one line." --model mock-fast
show "$bin/ccmesh" query helper /system
show "$bin/ccmesh" info helper
show "$bin/ccmesh" terminate helper
show "$bin/ccmesh" --json count

step "a pool: three sessions behind one name; the broker rotates prompts over them"
show "$bin/ccmesh" pool create helpers --size 3 --system-prompt "You answer in one line."
for i in 1 2 3; do show "$bin/ccmesh" pool query helpers "Question $i"; done
show "$bin/ccmesh" pool info helpers
show "$bin/ccmesh" pool delete helpers

step "the same cluster from Python (client/python) and over HTTP (docs/HTTP.md)"
# The system's interpreter: python3-zmq and python3-msgpack are installed for it.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
show env PYTHONPATH=client/python "$python" -c "import ccmesh; print(ccmesh.Client('$frontend').query('assistant', 'Hello from Python').text)"
show curl -sS -X POST "$http/api/sessions/assistant/query" -H 'Content-Type: application/json' \
  -d '{"prompt": "Hello from curl"}'
show curl -sSN -X POST "$http/api/sessions/assistant/query" -H 'Content-Type: application/json' \
  -H 'Accept: text/event-stream' -d '{"prompt": "/deltas 3 6"}'

step "kill -9 the worker hosting code_reviewer: the name moves, with its conversation"
# `ccmesh watch` follows the broker's events meanwhile (shown after the move).
"$bin/ccmesh" watch --session code_reviewer >"$run_dir/watch.out" 2>&1 &
watch_pid=$!
pids+=("$watch_pid")
# It follows once it prints an event of the session: a query makes some.
for _ in $(seq 50); do
  "$bin/ccmesh" query code_reviewer "(the operator is watching)" >/dev/null
  grep -q query_finished "$run_dir/watch.out" && break
done
host=$("$bin/ccmesh" info code_reviewer --json | sed -n 's/.*"worker":"\([^"]*\)".*/\1/p')
if [ "$host" = worker-a ]; then victim=${pids[1]}; else victim=${pids[2]}; fi
echo "\$ kill -KILL $victim   # worker $host"
{ kill -KILL "$victim" && wait "$victim"; } 2>/dev/null || true
for _ in $(seq 200); do
  now=$("$bin/ccmesh" info code_reviewer --json 2>/dev/null || true)
  case "$now" in *'"state":"idle"'*) [[ "$now" == *"\"worker\":\"$host\""* ]] || break ;; esac
  sleep 0.05
done
show "$bin/ccmesh" info code_reviewer
kill -INT "$watch_pid" 2>/dev/null || true
wait "$watch_pid" 2>/dev/null || true
echo "\$ ccmesh watch --session code_reviewer   # what it printed meanwhile"
cat "$run_dir/watch.out"
show "$bin/ccmesh" query code_reviewer /history
show "$bin/ccmesh" transcript code_reviewer

step "errors are values: an unknown session"
"$bin/ccmesh" query nobody hello && exit 1 || echo "(exit status $?)"

step "stop everything, and check that no CLI process is left"
cli_pids=$("$bin/ccmesh" list --json | grep -o '"pid":[0-9]*' | cut -d: -f2)
# shellcheck disable=SC2086  # one argument a pid
finish "broker, workers" $cli_pids
