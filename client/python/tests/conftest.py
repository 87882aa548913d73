"""Fixtures: a shared cluster (broker + two workers with the mock CLI) and clients of it."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Iterator

import pytest

# The package under test is the source tree's, whether or not it is installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import Cluster  # noqa: E402

from ccmesh import Client  # noqa: E402

_names = itertools.count(1)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """One broker and workers w1, w2 (queues of 2 besides the running prompt), for every
    test that does not stop or restart processes."""
    c = Cluster()
    try:
        c.start_worker("w1", ["--queue-depth", "2"])
        c.start_worker("w2", ["--queue-depth", "2"])
        yield c
    finally:
        c.stop()


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this test alone (it kills or restarts processes); no worker yet."""
    c = Cluster(["--heartbeat-ms", "200"])
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture
def client(cluster: Cluster) -> Iterator[Client]:
    with cluster.client() as c:
        yield c


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A session name no other test uses."""
    return f"{request.node.name.replace('[', '.').replace(']', '')[:80]}-{next(_names)}"
