"""Fixtures of the HTTP API's tests: the Python package's cluster of real processes, and a
small HTTP client on the standard library's http.client."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Iterator

import pytest

_root = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(_root / "client" / "python"))
sys.path.insert(0, str(_root / "client" / "python" / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster  # noqa: E402
from http_client import Http  # noqa: E402

_names = itertools.count(1)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A broker (HTTP on a free loopback port, no token) and workers w1, w2 with queues of 2."""
    c = Cluster()
    try:
        c.start_worker("w1", ["--queue-depth", "2"])
        c.start_worker("w2", ["--queue-depth", "2"])
        yield c
    finally:
        c.stop()


@pytest.fixture
def http(cluster: Cluster) -> Http:
    return Http(cluster.http)


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A session name no other test uses."""
    return f"{request.node.name.replace('[', '.').replace(']', '')[:60]}-{next(_names)}"
