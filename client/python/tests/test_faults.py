"""A broker restarted under a stream, a worker killed under a query: never silence."""

from __future__ import annotations

import signal
import threading

import pytest
from cluster import Cluster, wait_for

import ccmesh
from ccmesh import Delta


def test_broker_restart_during_a_stream_ends_it_unavailable(own_cluster: Cluster) -> None:
    own_cluster.start_worker("w1", ["--heartbeat-ms", "200"])
    with own_cluster.client(timeout=30) as client:
        client.start("s")
        stream = client.stream("s", "/sleep 60000")
        assert isinstance(next(stream), Delta)
        own_cluster.restart_broker()
        # The new broker does not know the query: the client's ping says so within seconds,
        # long before the query's own deadline (the client's 30 s + grace).
        with pytest.raises(ccmesh.UnavailableError) as caught:
            list(stream)
        assert caught.value.partial.startswith("t")
        # Read-only calls go on against the new broker, which learns the session back.
        wait_for("the worker to bring s back", lambda: [x.name for x in client.list()] == ["s"])
        client.start("t")  # (s still runs its minute-long turn on its worker)
        assert client.query("t", "after").worker == "w1"


def test_read_only_call_made_while_the_broker_is_down_is_answered_by_its_successor(
    own_cluster: Cluster,
) -> None:
    with own_cluster.client(timeout=30) as client:
        assert client.count().count == 0
        assert own_cluster.broker is not None
        own_cluster.broker.stop()
        answer: list = []
        caller = threading.Thread(target=lambda: answer.append(client.count()))
        caller.start()
        own_cluster.start_broker()
        caller.join(timeout=30)
        assert answer and answer[0].count == 0


def test_worker_killed_during_a_query_ends_it_worker_lost(own_cluster: Cluster) -> None:
    own_cluster.start_worker("w1", ["--heartbeat-ms", "200"])
    own_cluster.start_worker("w2", ["--heartbeat-ms", "200"])
    with own_cluster.client(timeout=30) as client:
        host = client.start("s").worker
        stream = client.stream("s", "/sleep 60000")
        assert isinstance(next(stream), Delta)
        own_cluster.workers[host].kill(signal.SIGKILL)
        with pytest.raises(ccmesh.WorkerLostError) as caught:
            list(stream)
        assert caught.value.partial.startswith("t")
        # The prompt is not re-run; the name answers again from the other worker.
        other = "w2" if host == "w1" else "w1"
        wait_for("the name to move", lambda: client.info("s").worker == other)
        assert client.query("s", "again").worker == other
