#!/usr/bin/env python3
"""Round trip of a short query: the Python client against the C++ `ccmesh query` tool.

    bench/python/roundtrip.py --bin-dir build/bin [--queries 200]

Starts a broker and one worker with the mock CLI (on free ports, in a temporary directory),
then times N sequential queries through one Python Client (one connection), and N runs of
the C++ `ccmesh query` tool (one process per query: its figure includes starting the
process and connecting), and prints p50, p90 and p99 of each in milliseconds.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "client" / "python"))
sys.path.insert(0, str(ROOT / "client" / "python" / "tests"))

from cluster import Cluster  # noqa: E402


def percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return pick(0.5), pick(0.9), pick(0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default=str(ROOT / "build" / "bin"))
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    os.environ["CCMESH_BIN_DIR"] = os.path.abspath(args.bin_dir)

    cluster = Cluster()
    try:
        cluster.start_worker("w1")
        rows = []
        with cluster.client() as client:
            client.start("bench")
            client.query("bench", "warm up")
            samples = []
            for i in range(args.queries):
                began = time.perf_counter()
                client.query("bench", f"q{i}")
                samples.append((time.perf_counter() - began) * 1000)
            rows.append(("python Client.query", samples))
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
