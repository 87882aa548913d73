"""The requests of the protocol as values: type, body, reply decoding and liveness policy.

Both clients build their calls here and differ only in how they wait, so the blocking and
the asyncio API cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import types as t
from .wire import Policy, policy_of

Decoder = Callable[[Dict[str, Any]], Any]


@dataclass(frozen=True)
class Call:
    """One request to send: its type and body, how its result decodes, how long it waits."""

    type: str  #: the message type
    body: Dict[str, Any]  #: the body without its id (the client adds it)
    decode: Decoder  #: the result body -> the value the caller gets
    #: seconds to wait for the final reply; None: the client's default timeout
    wait: Optional[float] = None
    #: a query: ``timeout`` adds the client's query grace, the deadline sends ``cancel``
    is_query: bool = False
    #: a query: answers the session's tool questions (None: each is denied at once)
    on_permission: Optional[t.PermissionHandler] = None

    @property
    def policy(self) -> Policy:
        return policy_of(self.type)


def _of(cls: type) -> Decoder:
    return lambda body: t.from_wire(cls, body)


def _millis(seconds: Optional[float]) -> int:
    return 0 if seconds is None or seconds <= 0 else int(round(seconds * 1000))


def query(
    name: str,
    prompt: str,
    stream: bool,
    timeout: Optional[float],
    pool: bool = False,
    on_permission: Optional[t.PermissionHandler] = None,
) -> Call:
    """``query`` (or ``pool_query`` of pool ``name``). ``timeout`` in seconds travels as
    ``timeout_ms``; None leaves the session's ``query_timeout_ms`` (or the worker's) in force.
    ``on_permission`` answers the session's tool questions (docs/SESSIONS.md "Tool approval").
    """
    body: Dict[str, Any] = {
        "pool" if pool else "session": name,
        "prompt": prompt,
        "stream": stream,
        "timeout_ms": _millis(timeout),
    }
    wait = timeout if timeout is not None and timeout > 0 else None
    return Call(
        "pool_query" if pool else "query",
        body,
        _of(t.Result),
        wait,
        is_query=True,
        on_permission=on_permission,
    )


def start(name: str, options: t.SessionOptions, fork_of: str = "") -> Call:
    body: Dict[str, Any] = {"session": name, "options": options.to_wire()}
    if fork_of:
        body["fork_of"] = fork_of
    return Call("start", body, _of(t.Ack))


def terminate(name: str) -> Call:
    return Call("terminate", {"session": name}, _of(t.Ack))


def restart(name: str, keep_history: bool, from_cut: bool) -> Call:
    body = {"session": name, "keep_history": keep_history, "from_cut": from_cut}
    return Call("restart", body, _of(t.Ack))


def set_live(name: str, model: str, permission_mode: str) -> Call:
    body = {"session": name, "model": model, "permission_mode": permission_mode}
    return Call("set", body, _of(t.Ack))


def context(name: str) -> Call:
    return Call("context", {"session": name}, _of(t.ContextUsage))


def usage(by: str) -> Call:
    return Call("usage", {"by": by}, _of(t.UsageReport))


def budget(name: str, add_usd: float, set_usd: Optional[float], reset: bool) -> Call:
    body = {"name": name, "add_usd": float(add_usd), "reset": reset,
            "set_usd": -1.0 if set_usd is None else float(set_usd)}
    return Call("budget", body, _of(t.Budget))


def info(name: str) -> Call:
    return Call("info", {"session": name}, lambda b: t.from_wire(t.SessionInfo, b["session"]))


def move(name: str, worker: str) -> Call:
    return Call("move", {"session": name, "worker": worker}, _of(t.Ack))


def transcript(name: str) -> Call:
    return Call("transcript", {"session": name}, _of(t.Transcript))


def list_sessions() -> Call:
    return Call(
        "list", {}, lambda b: [t.from_wire(t.SessionInfo, s) for s in b.get("sessions", [])]
    )


def count() -> Call:
    return Call("count", {}, _of(t.Count))


def status() -> Call:
    return Call("status", {}, _of(t.Status))


def ping() -> Call:
    return Call("ping", {}, _of(t.Pong))


def watch(session: Optional[str], pool: Optional[str]) -> Call:
    return Call("watch", {"session": session or "", "pool": pool or ""}, lambda b: None)


def _pool_info(body: Dict[str, Any]) -> t.PoolInfo:
    return t.from_wire(t.PoolInfo, body.get("pool", {}))


def pool_create(
    name: str,
    size: Optional[int],
    members: Optional[Sequence[str]],
    strategy: str,
    options: t.SessionOptions,
    fork_of: str = "",
) -> Call:
    body: Dict[str, Any] = {"pool": name, "strategy": strategy, "options": options.to_wire()}
    if fork_of:
        body["fork_of"] = fork_of
    if size is not None:
        body["size"] = size
    if members is not None:
        body["members"] = list(members)
    return Call("pool_create", body, _pool_info)


def pool_checkout(name: str, lease: Optional[float], wait: float, grace: float) -> Call:
    body = {"pool": name, "lease_ms": _millis(lease), "timeout_ms": _millis(wait)}
    # The broker answers pool_exhausted at `wait`; its reply gets the grace to arrive.
    return Call("pool_checkout", body, _of(t.CheckoutResult), wait + grace)


def pool_checkin(name: str, member: str, lease_id: int) -> Call:
    body = {"pool": name, "member": member, "lease_id": lease_id}
    return Call("pool_checkin", body, _of(t.CheckinResult))


def pool_list() -> Call:
    return Call(
        "pool_list", {}, lambda b: [t.from_wire(t.PoolInfo, p) for p in b.get("pools", [])]
    )


def pool_info(name: str) -> Call:
    return Call("pool_info", {"pool": name}, _pool_info)


def pool_resize(name: str, size: int) -> Call:
    return Call("pool_resize", {"pool": name, "size": size}, _pool_info)


def pool_delete(name: str) -> Call:
    return Call("pool_delete", {"pool": name}, _pool_info)


def raw(message_type: str, body: Dict[str, Any], wait: Optional[float]) -> Call:
    """Any request type, its result body returned as a dict."""
    return Call(message_type, body, dict, wait)


def members_of(info: t.PoolInfo) -> List[str]:
    """The member names of a pool, in rotation order."""
    return [m.name for m in info.members]
