#!/usr/bin/env python3
"""Fan one prompt out over every member of a pool and gather the answers.

    python3 pool_fanout.py [--broker tcp://127.0.0.1:5555] [--pool reviewers] [--size 4] PROMPT

Creates the pool if it does not exist, then checks out every member at once (so each
prompt runs on its own member, in parallel), queries each from its own thread through one
shared Client, and checks the members back in.
"""

import argparse
import concurrent.futures
import contextlib

import ccmesh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=ccmesh.DEFAULT_BROKER)
    parser.add_argument("--pool", default="fanout")
    parser.add_argument("--size", type=int, default=4)
    parser.add_argument("prompt")
    args = parser.parse_args()

    with ccmesh.Client(args.broker, timeout=120) as client:
        try:
            size = client.pool_create(args.pool, args.size).size
        except ccmesh.AlreadyExistsError:
            size = client.pool_info(args.pool).size
        with contextlib.ExitStack() as leases:
            members = [leases.enter_context(client.checkout(args.pool, lease=300))
                       for _ in range(size)]
            with concurrent.futures.ThreadPoolExecutor(len(members)) as threads:
                answers = threads.map(lambda m: m.query(args.prompt), members)
                for member, answer in zip(members, answers):
                    print(f"--- {member.member} on {answer.worker} ({answer.duration_ms} ms)")
                    print(answer.text)


if __name__ == "__main__":
    main()
