"""Tool approval: a session with permission_handler "client" asks the caller of its query
before its CLI runs a tool (the mock CLI's ``/tool NAME INPUT`` asks, and says in its answer
how it was decided)."""

from __future__ import annotations

import asyncio
import json
from typing import List

from cluster import Cluster

from ccmesh import AsyncClient, Client, PermissionAnswer, PermissionRequest, Result


def test_the_handler_sees_the_question_and_its_answer_runs(client: Client, name: str) -> None:
    client.start(name, permission_handler="client")
    asked: List[PermissionRequest] = []

    def approve(question: PermissionRequest) -> PermissionAnswer:
        asked.append(question)
        return PermissionAnswer.allowed('{"command":"git log"}')

    result = client.query(name, '/tool Bash {"command":"git push"}', on_permission=approve)
    assert result.text == 'tool Bash allowed: {"command":"git log"}'
    (question,) = asked
    assert question.session == name and question.tool_name == "Bash"
    assert json.loads(question.input) == {"command": "git push"}
    assert question.timeout_ms == 60000 and question.request


def test_without_a_handler_every_question_is_denied(client: Client, name: str) -> None:
    client.start(name, permission_handler="client")
    result = client.query(name, "/tool Bash ls")
    assert result.text == "tool Bash denied: this client answers no tool questions"


def test_a_handler_that_raises_denies(client: Client, name: str) -> None:
    client.start(name, permission_handler="client")

    def broken(question: PermissionRequest) -> PermissionAnswer:
        raise RuntimeError("oops")

    items = list(client.stream(name, "/tool Bash ls", on_permission=broken))
    final = items[-1]
    assert isinstance(final, Result)
    assert final.text == "tool Bash denied: the client's handler failed: oops"


def test_pool_queries_and_the_async_client_carry_the_handler(cluster: Cluster, name: str) -> None:
    async def main() -> None:
        async with AsyncClient(cluster.frontend, timeout=30) as client:
            await client.pool_create(name, size=1, permission_handler="client")
            deny = lambda q: PermissionAnswer.denied(f"not {q.tool_name}")  # noqa: E731
            result = await client.pool_query(name, "/tool Edit {}", on_permission=deny)
            assert result.text == "tool Edit denied: not Edit"
            assert result.pool == name and result.session == f"{name}/0"

    asyncio.run(asyncio.wait_for(main(), 60))
