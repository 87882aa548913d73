#!/usr/bin/env bash
# High availability on one machine (docs/OPERATIONS.md "High availability"): installs what is
# missing, builds, starts a one-member etcd, two brokers of one cluster and two workers on
# loopback with the mock CLI; a client keeps querying three sessions while the leader is
# killed with -9; a standby takes over, the same CLIs answer, the old leader comes back as a
# standby. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target ccmesh-broker ccmesh-worker ccmesh ccmesh-mock-cli
bin=$root/build/bin

source scripts/demo-lib.sh demo-ha
# A loopback TCP port nobody listens on now (the kernel's pick).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# One value of the JSON document on stdin, `d` being the document.
json_field() { /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

step "start a one-member etcd on free loopback ports (production: three members)"
etcd_url=http://127.0.0.1:$(free_port)
peer_url=http://127.0.0.1:$(free_port)
# A 100 ms election timeout lets etcd grant leases of one second.
setsid etcd --name demo --data-dir "$run_dir/etcd" --listen-client-urls "$etcd_url" \
  --advertise-client-urls "$etcd_url" --listen-peer-urls "$peer_url" \
  --initial-advertise-peer-urls "$peer_url" --initial-cluster "demo=$peer_url" \
  --heartbeat-interval 10 --election-timeout 100 >"$run_dir/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -fsS "$etcd_url/health" >/dev/null 2>&1 && break; sleep 0.05; done
echo "etcd at $etcd_url"

# Leases of 1 s; heartbeats of 200 ms and a worker lease of 15 of them (3 s) outlast a leader
# change (the timing rule).
declare -A frontend backend broker_pid
start_broker() {
  local name=$1 ports=()
  if [ -n "${frontend[$name]:-}" ]; then
    ports=(--frontend "${frontend[$name]}" --backend "${backend[$name]}")
  else
    ports=(--frontend 'tcp://127.0.0.1:*' --backend 'tcp://127.0.0.1:*')
  fi
  rm -f "$run_dir/$name.ready"
  setsid "$bin/ccmesh-broker" "${ports[@]}" --ready-file "$run_dir/$name.ready" \
    --heartbeat-ms 200 --liveness 15 \
    --ha-etcd "$etcd_url" --ha-name "$name" --ha-cluster demo --ha-ttl-ms 1000 \
    >>"$run_dir/$name.log" 2>&1 &
  broker_pid[$name]=$!
  pids+=($!)
  wait_file "$run_dir/$name.ready" || { echo "broker $name did not start:"; cat "$run_dir/$name.log"; exit 1; }
  frontend[$name]=$(sed -n 's/^frontend=//p' "$run_dir/$name.ready")
  backend[$name]=$(sed -n 's/^backend=//p' "$run_dir/$name.ready")
  echo "broker $name: frontend ${frontend[$name]}, backend ${backend[$name]}"
}

step "start two brokers of cluster 'demo': one leads, the other stands by"
start_broker broker-a
start_broker broker-b
export CCMESH_BROKER=${frontend[broker-a]},${frontend[broker-b]}
echo "CCMESH_BROKER=$CCMESH_BROKER"

step "start two workers that know both brokers"
for w in worker-a worker-b; do
  mkdir -p "$run_dir/$w"
  HOME=$run_dir/$w setsid "$bin/ccmesh-worker" --broker "${backend[broker-a]},${backend[broker-b]}" \
    --id "$w" --capacity 8 >"$run_dir/$w.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 200); do
  n=$("$bin/ccmesh" status --json 2>/dev/null | grep -o '"id":"worker-' | wc -l || true)
  [ "$n" = 2 ] && break
  sleep 0.05
done
show "$bin/ccmesh" status

step "three sessions, one turn each"
for s in alpha beta gamma; do
  "$bin/ccmesh" start "$s" >/dev/null
  show "$bin/ccmesh" query "$s" "hello $s"
done
leader=$("$bin/ccmesh" status --json | json_field 'd["ha"]["name"]')
[ -n "$leader" ] || { echo "no leader in status"; exit 1; }
pids_before=$("$bin/ccmesh" list --json | grep -o '"pid":[0-9]*' | tr '\n' ' ')

step "a client queries the sessions in a loop; kill -9 the leader ($leader) meanwhile"
(
  n=0
  while [ ! -e "$run_dir/stop" ]; do
    n=$((n + 1))
    for s in alpha beta gamma; do
      start_ms=$(date +%s%3N)
      if out=$("$bin/ccmesh" query "$s" "question $n" --timeout 10000 2>&1); then :; fi
      printf '%s  %-5s %5d ms  %s\n' "$(date +%T.%3N)" "$s" "$(($(date +%s%3N) - start_ms))" "$out"
    done
  done
) >"$run_dir/queries.out" 2>&1 &
loop_pid=$!
pids+=("$loop_pid")
for _ in $(seq 200); do [ "$(wc -l <"$run_dir/queries.out")" -ge 6 ] && break; sleep 0.05; done
echo "\$ kill -KILL ${broker_pid[$leader]}   # broker $leader, at $(date +%T.%3N)"
{ kill -KILL "${broker_pid[$leader]}" && wait "${broker_pid[$leader]}"; } 2>/dev/null || true
# Until every session has answered again from the new leader.
lines=$(wc -l <"$run_dir/queries.out")
for _ in $(seq 400); do
  answered=$(tail -n +"$((lines + 1))" "$run_dir/queries.out" | grep -c ' turn ' || true)
  [ "$answered" -ge 6 ] && break
  sleep 0.05
done
touch "$run_dir/stop"
wait "$loop_pid" 2>/dev/null || true
echo "what the client saw (one line per query):"
cat "$run_dir/queries.out"

step "the standby leads now, with a higher term; the same CLIs answer"
show "$bin/ccmesh" status
pids_after=$("$bin/ccmesh" list --json | grep -o '"pid":[0-9]*' | tr '\n' ' ')
echo "CLI pids before: $pids_before"
echo "CLI pids after:  $pids_after"
[ "$pids_before" = "$pids_after" ] || { echo "a CLI was restarted"; exit 1; }
show "$bin/ccmesh" query alpha /history

step "the old leader comes back, as a standby"
start_broker "$leader"
for _ in $(seq 200); do
  [ "$("$bin/ccmesh" status --json | json_field 'len(d["ha"]["members"])')" = 2 ] && break
  sleep 0.05
done
show "$bin/ccmesh" status

step "stop everything, and check that no CLI process is left"
cli_pids=$("$bin/ccmesh" list --json | grep -o '"pid":[0-9]*' | cut -d: -f2)
# shellcheck disable=SC2086  # one argument a pid
finish "etcd, two brokers, two workers" $cli_pids
