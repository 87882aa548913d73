#!/usr/bin/env python3
"""Round trip of a short query: the Python client against the C++ `ccmesh query` tool.

    bench/python/roundtrip.py --bin-dir build/bin [--queries 200]
    bench/python/roundtrip.py --broker ENDPOINT --session NAME [--queries 200] --json

Starts a broker and one worker with the mock CLI (on free ports, in a temporary directory),
then times N sequential queries through one Python Client (one connection), and N runs of
the C++ `ccmesh query` tool (one process per query: its figure includes starting the
process and connecting), and prints p50, p90 and p99 of each in milliseconds.

With --broker it starts nothing: it times the Python client alone against that broker's
session NAME and prints {"queries", "p50_us", "p90_us", "p99_us"} (ccmesh-bench-http runs
it so, beside the C++ client and HTTP in the same run).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "client" / "python"))
sys.path.insert(0, str(ROOT / "client" / "python" / "tests"))



def percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return pick(0.5), pick(0.9), pick(0.99)


def time_python_client(client, session: str, queries: int):
    """Milliseconds of each of `queries` sequential queries, after one to warm up."""
    client.query(session, "warm up")
    samples = []
    for i in range(queries):
        began = time.perf_counter()
        client.query(session, f"q{i}")
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default=str(ROOT / "build" / "bin"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--broker", help="time the Python client alone against this broker")
    parser.add_argument("--session", default="bench")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.broker:
        import ccmesh

        with ccmesh.Client(args.broker, timeout=30) as client:
            samples = time_python_client(client, args.session, args.queries)
        p50, p90, p99 = percentiles(samples)
        print(json.dumps({"queries": len(samples), "p50_us": p50 * 1000, "p90_us": p90 * 1000,
                          "p99_us": p99 * 1000}))
        return
    os.environ["CCMESH_BIN_DIR"] = os.path.abspath(args.bin_dir)
    from cluster import Cluster

    cluster = Cluster()
    try:
        cluster.start_worker("w1")
        rows = []
        with cluster.client() as client:
            client.start("bench")
            rows.append(("python Client.query", time_python_client(client, "bench", args.queries)))
        samples = []
        for i in range(args.queries):
            began = time.perf_counter()
            done = cluster.tool("query", "bench", f"t{i}")
            samples.append((time.perf_counter() - began) * 1000)
            if done.returncode != 0:
                raise SystemExit(f"ccmesh query failed: {done.stderr}")
        rows.append(("ccmesh query (process)", samples))
        print(f"{'client':<26}{'queries':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'mean':>9}")
        for label, data in rows:
            p50, p90, p99 = percentiles(data)
            print(f"{label:<26}{len(data):>8}{p50:>9.2f}{p90:>9.2f}{p99:>9.2f}"
                  f"{statistics.mean(data):>9.2f}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
