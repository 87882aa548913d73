"""AsyncClient: the same calls as coroutines, many streams at once, task cancellation."""

from __future__ import annotations

import asyncio

import pytest
from cluster import Cluster

import ccmesh
from ccmesh import AsyncClient, Delta, Result


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def test_fifty_concurrent_streams_keep_their_own_order(cluster: Cluster, name: str) -> None:
    async def main() -> None:
        async with AsyncClient(cluster.frontend, timeout=30) as client:
            # Two streams a session: one runs, one waits (the workers queue two at most).
            sessions = [f"{name}-{i}" for i in range(25)]
            await asyncio.gather(*(client.start(s) for s in sessions))

            async def one(i: int) -> str:
                seqs, texts, final = [], [], None
                async for item in client.stream(sessions[i % 25], f"/sleep {50 + i}"):
                    if isinstance(item, Delta):
                        seqs.append(item.seq)
                        texts.append(item.text)
                    else:
                        final = item
                assert isinstance(final, Result) and seqs == list(range(len(seqs)))
                assert 1 <= len(seqs) <= 10  # deltas arriving together may be merged
                assert "".join(texts) == final.text
                return final.text

            texts = await asyncio.gather(*(one(i) for i in range(50)))
            assert all(t.endswith(f"/sleep {50 + i}") for i, t in enumerate(texts))

    run(main())


def test_async_calls_and_errors(cluster: Cluster, name: str) -> None:
    async def main() -> None:
        async with AsyncClient(cluster.frontend, timeout=30) as client:
            ack = await client.start(name, max_turns=2)
            assert ack.session == name
            assert (await client.query(name, "hi")).text == "turn 1: hi"
            assert (await client.info(name)).config["max_turns"] == 2
            assert name in [s.name for s in await client.list()]
            assert (await client.count()).count >= 1
            assert len((await client.status()).workers) == 2
            assert (await client.ping()).version
            with pytest.raises(ccmesh.NotFoundError):
                await client.query(name + "-missing", "x")
            await client.pool_create(name + "-pool", 1)
            async with client.checkout(name + "-pool", lease=30) as member:
                assert (await member.query("leased")).session == member.member
            assert (await client.pool_info(name + "-pool")).checked_out == 0

    run(main())


def test_cancelling_the_task_cancels_the_query(cluster: Cluster, name: str) -> None:
    async def main() -> None:
        async with AsyncClient(cluster.frontend, timeout=30) as client:
            await client.start(name)
            stream = client.stream(name, "/sleep 60000")
            first = asyncio.get_running_loop().create_future()

            async def consume() -> None:
                async for item in stream:
                    if not first.done():
                        first.set_result(item)

            task = asyncio.create_task(consume())
            assert isinstance(await first, Delta)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            for _ in range(600):  # poll under a deadline: the turn ends long before a minute
                if (await client.info(name)).queue_depth == 0:
                    break
                await asyncio.sleep(0.05)
            assert (await client.info(name)).queue_depth == 0

    run(main())
