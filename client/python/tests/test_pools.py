"""Pools: create, query, stream, list, info, resize, checkout/checkin, delete."""

from __future__ import annotations

import pytest

import ccmesh
from ccmesh import Client, Delta, Result


def test_pool_lifecycle(client: Client, name: str) -> None:
    created = client.pool_create(name, 2, strategy="round_robin", system_prompt="pooled")
    assert created.name == name and created.size == 2 and created.owned
    assert [m.name for m in created.members] == [f"{name}/0", f"{name}/1"]
    answered = {client.pool_query(name, "hi").session for _ in range(2)}
    assert answered == {f"{name}/0", f"{name}/1"}
    items = list(client.pool_stream(name, "/sleep 100"))
    assert isinstance(items[-1], Result) and items[-1].pool == name
    assert all(isinstance(d, Delta) for d in items[:-1])
    assert name in [p.name for p in client.pool_list()]
    assert client.pool_resize(name, 3).size == 3
    info = client.pool_info(name)
    assert info.size == 3 and info.strategy == "round_robin"
    deleted = client.pool_delete(name)
    assert deleted.name == name
    with pytest.raises(ccmesh.NotFoundError):
        client.pool_info(name)


def test_checkout_in_a_with_block_checks_the_member_back_in(client: Client, name: str) -> None:
    client.pool_create(name, 1)
    with client.checkout(name, lease=60) as member:
        assert member.member == f"{name}/0" and member.lease_id > 0
        assert member.query("mine").session == member.member
        assert client.pool_info(name).checked_out == 1
        with pytest.raises(ccmesh.PoolExhaustedError):
            client.checkout(name, wait=0.2)  # the only member is out
    info = client.pool_info(name)
    assert info.checked_out == 0 and not info.members[0].checked_out
    lease = client.checkout(name)
    assert client.checkin(name, lease.member, lease.lease_id).member == lease.member
    with pytest.raises(ccmesh.NotFoundError):
        client.checkin(name, lease.member, lease.lease_id)  # not checked out any more


def test_pool_errors(client: Client, name: str) -> None:
    with pytest.raises(ccmesh.NotFoundError):
        client.pool_query(name, "x")
    with pytest.raises(ccmesh.BadRequestError):
        client.pool_create(name, 2, members=["a"])  # both size and members
    client.pool_create(name, 1)
    with pytest.raises(ccmesh.AlreadyExistsError):
        client.pool_create(name, 1)
