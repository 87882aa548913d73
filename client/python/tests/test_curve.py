"""CURVE: listed keys get in with their role's rights; others are refused at once."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest
import zmq
from cluster import Cluster

import ccmesh
from ccmesh import Client, CurveKeys, load_curve_keys


def write_keys(directory: Path, name: str) -> Tuple[str, str]:
    """A key pair in the files `ccmesh keygen NAME` writes."""
    public, secret = (k.decode() for k in zmq.curve_keypair())
    key_file = directory / f"{name}.key"
    key_file.write_text(f"# ccmesh CURVE secret key of \"{name}\"\n{secret}\n")
    os.chmod(key_file, 0o600)
    (directory / f"{name}.pub").write_text(f"# ccmesh CURVE public key\n{public}\n")
    return public, secret


@pytest.fixture
def curve_cluster(tmp_path: Path) -> Iterator[Tuple[Cluster, Dict[str, CurveKeys]]]:
    publics = {n: write_keys(tmp_path, n)[0] for n in ("broker", "alice", "bob", "eve", "w1")}
    (tmp_path / "clients.allow").write_text(
        f"{publics['alice']} admin alice\n{publics['bob']} query bob\n"
    )
    (tmp_path / "workers.allow").write_text(f"{publics['w1']} w1\n")
    cluster = Cluster(
        [
            "--curve-secret", str(tmp_path / "broker.key"),
            "--clients-allow", str(tmp_path / "clients.allow"),
            "--workers-allow", str(tmp_path / "workers.allow"),
        ]
    )
    try:
        keys = {
            n: load_curve_keys(str(tmp_path / "broker.pub"), str(tmp_path / f"{n}.key"))
            for n in ("alice", "bob", "eve")
        }
        cluster.curve = keys["alice"]
        cluster.start_worker(
            "w1",
            ["--curve-server-key", str(tmp_path / "broker.pub"),
             "--curve-secret", str(tmp_path / "w1.key")],
        )
        yield cluster, keys
    finally:
        cluster.stop()


def test_curve_roles_and_refused_keys(curve_cluster: Tuple[Cluster, Dict[str, CurveKeys]]) -> None:
    cluster, keys = curve_cluster
    alice = keys["alice"]
    # Keys as strings, the public one derived from the secret.
    with Client(cluster.frontend, curve_server_key=alice.server_key, curve_secret=alice.secret,
                timeout=20) as admin:
        assert admin.status().curve
        admin.start("s")
        assert admin.query("s", "secret").text == "turn 1: secret"
        assert admin.info("s").creator == "alice"
    with Client(cluster.frontend, curve=keys["bob"], timeout=20) as bob:
        assert bob.query("s", "read").text == "turn 2: read"
        with pytest.raises(ccmesh.UnauthorizedError):
            bob.start("t")  # the query role may not start sessions
    began = time.monotonic()
    with Client(cluster.frontend, curve=keys["eve"], timeout=20) as eve:
        with pytest.raises(ccmesh.UnauthorizedError) as caught:
            eve.list()
        assert "refused" in caught.value.message
    assert time.monotonic() - began < 10  # at once, not at the deadline
    with Client(cluster.frontend, timeout=20) as plain:  # no keys at all
        with pytest.raises(ccmesh.UnauthorizedError):
            plain.ping()
