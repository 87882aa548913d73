#!/usr/bin/env python3
"""100 concurrent streamed queries from one asyncio program and one connection.

    python3 async_streams.py [--broker tcp://127.0.0.1:5555] [--streams 100] [--sessions 50]

Starts the sessions it needs (async-demo-0 ..), runs the streams at once (each session
queues its prompts and runs them one at a time), prints how many deltas each stream got and
the total time, and terminates the sessions.
"""

import argparse
import asyncio
import time

import ccmesh


async def one_stream(client: ccmesh.AsyncClient, session: str, prompt: str) -> int:
    deltas = 0
    async for item in client.stream(session, prompt):
        if isinstance(item, ccmesh.Delta):
            deltas += 1
    return deltas


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=ccmesh.DEFAULT_BROKER)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--prompt", default="/sleep 500", help="the mock CLI's slow answer")
    args = parser.parse_args()

    async with ccmesh.AsyncClient(args.broker, timeout=120) as client:
        sessions = [f"async-demo-{i}" for i in range(args.sessions)]
        for started in await asyncio.gather(*(client.start(s) for s in sessions),
                                            return_exceptions=True):
            if isinstance(started, ccmesh.CcmeshError) and started.code != "already_exists":
                raise started
        began = time.monotonic()
        counts = await asyncio.gather(
            *(one_stream(client, sessions[i % len(sessions)], args.prompt)
              for i in range(args.streams)))
        elapsed = time.monotonic() - began
        print(f"{len(counts)} streams, {sum(counts)} deltas in {elapsed:.2f} s")
        await asyncio.gather(*(client.terminate(s) for s in sessions))


if __name__ == "__main__":
    asyncio.run(main())
