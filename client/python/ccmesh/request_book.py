"""The requests a client has in flight, and the liveness rules around them.

:class:`RequestBook` holds every request waiting for its final reply and decides, with no
I/O of its own, what the client must send and which replies go to which caller: inputs go
in as calls (:meth:`~RequestBook.open`, :meth:`~RequestBook.receive`,
:meth:`~RequestBook.tick`, ...) and what must happen comes out as one :class:`Actions`
value (frames to send, replies to hand over). The blocking :class:`~ccmesh.Client` and the
asyncio :class:`~ccmesh.AsyncClient` drive the same book from their own I/O, so both keep
the rules of docs/PROTOCOL.md exactly as the C++ client does:

* every request ends with exactly one final reply: the broker's, or one the client makes
  (``timeout`` at the local deadline, ``unavailable`` for a request the broker lost,
  ``unauthorized`` when the broker refuses the CURVE handshake) - never silence;
* after a silence of ``check_interval`` a request the broker holds (:attr:`Policy.TRACKED`)
  is checked on with a ``ping`` listing it; a request the ping's result lists as unknown
  ends with ``unavailable`` (one ping covers every request due, and one ping at most is
  outstanding per request);
* a request that only reads the broker's state (:attr:`Policy.READ_ONLY`) is sent again
  with the same id after that silence, then after 1, 2, 4, ... times it; a second answer
  is dropped;
* replies for requests no longer waiting (answered, given up, cancelled and abandoned) are
  dropped, and so are delta events whose ``seq`` was already seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import types as t
from .wire import MAX_BODY_BYTES, Incoming, Policy, decode, encode

#: how a request's replies reach its caller (called with the book's lock held: never block)
Sink = Callable[[Incoming], None]


@dataclass(eq=False)
class Pending:
    """One request waiting for its final reply."""

    id: int  #: the request id, unique among this client's requests
    type: str  #: its message type
    frames: List[bytes]  #: as sent (a read-only request is sent again as is)
    policy: Policy  #: what silence makes the client do
    deadline: float  #: monotonic time of the local deadline (math.inf: none)
    wait_ms: int  #: how long it may wait, for the timeout message
    sink: Sink  #: where its replies go
    cancel_at_deadline: bool = False  #: a query: send ``cancel`` when giving up locally
    feed: bool = False  #: a watch: its events are FeedEvents (their seq has gaps)
    heard_at: float = 0.0  #: silence is counted from here or the book's last_heard
    resend_interval: float = 0.0  #: read-only: the next silence before sending again
    ping_id: int = 0  #: the ping asking about it whose answer is awaited (0: none)
    next_seq: int = 0  #: the delta seq expected next (lower ones are duplicates)
    partial: List[str] = field(default_factory=list)  #: delta texts seen so far
    cancel_sent: bool = False  #: ``cancel`` went out for it
    on_permission: Optional[t.PermissionHandler] = None  #: a query: answers tool questions


@dataclass
class Actions:
    """What the caller of the book must do now: send these frames, hand these replies over."""

    sends: List[List[bytes]] = field(default_factory=list)
    deliveries: List[Tuple[Pending, Incoming]] = field(default_factory=list)

    def run(self, send: Callable[[List[bytes]], None]) -> None:
        """Sends every frame set with ``send``, then delivers every reply to its sink."""
        for frames in self.sends:
            send(frames)
        for pending, item in self.deliveries:
            pending.sink(item)


class RequestBook:
    """The requests in flight on one connection to a broker (not thread-safe: one owner)."""

    def __init__(self, broker: str, check_interval: float) -> None:
        self.broker = broker  #: the endpoint, for messages
        self.check_interval = check_interval  #: silence before a check (0: never check)
        self.last_heard = 0.0  #: when the broker last sent anything
        self.handshake_failure: Optional[str] = None  #: why the broker refused us, if it did
        self._pending: Dict[int, List[Pending]] = {}  #: id -> requests (oldest first)
        self._pings: Dict[int, List[int]] = {}  #: ping id -> the request ids it asks about
        self._next_id = 1  #: the next request id

    def new_id(self) -> int:
        """A request id never used on this connection."""
        request_id = self._next_id
        self._next_id += 1
        return request_id

    def waiting(self) -> int:
        """How many requests wait for their final reply."""
        return sum(len(v) for v in self._pending.values())

    # ---- inputs -------------------------------------------------------------------------

    def open(
        self,
        request_id: int,
        message_type: str,
        body: Dict[str, Any],
        policy: Policy,
        wait: float,
        sink: Sink,
        now: float,
        *,
        cancel_at_deadline: bool = False,
        feed: bool = False,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> Tuple[Pending, Actions]:
        """Registers a request and sends it. ``wait`` in seconds (math.inf: no deadline)."""
        body = dict(body, id=request_id)
        frames = encode(message_type, body)
        pending = Pending(
            id=request_id,
            type=message_type,
            frames=frames,
            policy=policy,
            deadline=now + wait,
            wait_ms=0 if math.isinf(wait) else int(round(wait * 1000)),
            sink=sink,
            cancel_at_deadline=cancel_at_deadline,
            feed=feed,
            on_permission=on_permission,
            heard_at=now,
            resend_interval=self.check_interval,
        )
        actions = Actions()
        if len(frames[2]) > MAX_BODY_BYTES:
            # The broker would drop the connection without a word: refuse it here.
            actions.deliveries.append(
                (
                    pending,
                    self._error(
                        request_id,
                        "bad_request",
                        f"{message_type} request is {len(frames[2])} bytes; the broker takes "
                        f"at most {MAX_BODY_BYTES} bytes per message",
                    ),
                )
            )
            return pending, actions
        if self.handshake_failure is not None:
            actions.deliveries.append((pending, self._unauthorized(request_id)))
            return pending, actions
        self._pending.setdefault(request_id, []).append(pending)
        actions.sends.append(frames)
        return pending, actions

    def cancel(self, pending: Pending, abandon: bool) -> Actions:
        """Sends ``cancel`` for a request still waiting. ``abandon``: its caller is gone, so
        it stops waiting now and every later reply of it is dropped; else it waits for its
        final reply (``cancelled``, or the normal one if that won the race)."""
        actions = Actions()
        if not self._is_waiting(pending):
            return actions
        if not pending.cancel_sent:
            pending.cancel_sent = True
            actions.sends.append(encode("cancel", {"id": pending.id}))
        if abandon:
            self._remove(pending)
        return actions

    def receive(self, frames: Sequence[bytes], now: float) -> Actions:
        """A message from the broker."""
        actions = Actions()
        message = decode(frames)
        if message is None:
            return actions  # not a CCM1 message: nothing to hand anyone
        self.last_heard = now
        if message.id in self._pings:
            self._ping_answered(message, now, actions)
            return actions
        waiting = self._pending.get(message.id)
        if not waiting:
            if message.id == 0 and message.final and self.waiting() == 1:
                # A final reply with no readable id answers something this client sent;
                # with one request waiting, it is the owner.
                (only,) = [p for v in self._pending.values() for p in v]
                self._finish(only, message, actions)
            return actions  # a late or second answer: for nobody
        if message.type == "permission_request":
            actions.sends.append(self._answer_question(waiting[0], message))
            return actions
        if not message.final:
            pending = waiting[0]
            if not pending.feed:
                seq = message.body.get("seq", 0)
                if isinstance(seq, int) and seq < pending.next_seq:
                    return actions  # seen already
                pending.next_seq = (seq if isinstance(seq, int) else pending.next_seq) + 1
                if message.body.get("kind") == "delta":
                    pending.partial.append(str(message.body.get("text", "")))
            actions.deliveries.append((pending, message))
            return actions
        # A duplicate_id refusal ends the newest request of that id; the one in flight
        # before it goes on.
        is_refusal = message.type == "error" and message.body.get("code") == "duplicate_id"
        self._finish(waiting[-1] if is_refusal else waiting[0], message, actions)
        return actions

    @staticmethod
    def _answer_question(pending: Pending, message: Incoming) -> List[bytes]:
        """The ``permission_reply`` to a tool question of query ``pending``: its handler's
        answer, or a deny without one (or when the handler raised)."""
        question = t.from_wire(t.PermissionRequest, dict(message.body, id=pending.id))
        answer = t.PermissionAnswer.denied("this client answers no tool questions")
        if pending.on_permission is not None:
            try:
                answer = pending.on_permission(question)
            except Exception as e:  # a broken handler must not break the I/O loop
                answer = t.PermissionAnswer.denied(f"the client's handler failed: {e}")
        body = {
            "id": pending.id,
            "request": question.request,
            "behavior": "allow" if answer.allow else "deny",
            "updated_input": answer.updated_input if answer.allow else "",
            "message": "" if answer.allow else answer.message,
        }
        return encode("permission_reply", body)

    def tick(self, now: float) -> Actions:
        """Time passed: local deadlines, silence checks and resends that are due."""
        actions = Actions()
        ask: List[Pending] = []
        for pending in [p for v in self._pending.values() for p in v]:
            if now >= pending.deadline:
                self._give_up(pending, actions)
                continue
            if not self._check_due(pending, now):
                continue
            if pending.policy is Policy.READ_ONLY:
                # A restarted broker never saw it; a slow one answers twice (one dropped).
                actions.sends.append(pending.frames)
                pending.heard_at = now + pending.resend_interval - self.check_interval
                pending.resend_interval *= 2
            else:
                ask.append(pending)
        if ask:
            ping_id = self.new_id()
            self._pings[ping_id] = [p.id for p in ask]
            for pending in ask:
                pending.ping_id = ping_id
            actions.sends.append(encode("ping", {"id": ping_id, "pending": [p.id for p in ask]}))
        return actions

    def next_wakeup(self, now: float) -> float:
        """Seconds until :meth:`tick` has something to do (math.inf: nothing waits)."""
        soonest = math.inf
        for pending in [p for v in self._pending.values() for p in v]:
            soonest = min(soonest, pending.deadline)
            if self._checks(pending) and pending.ping_id == 0:
                soonest = min(soonest, max(self.last_heard, pending.heard_at) + self.check_interval)
        return max(0.0, soonest - now)

    def handshake_failed(self, why: str) -> Actions:
        """The broker refused the security handshake: nothing sent will get through, so
        every request ends with ``unauthorized``, and so do new ones until one succeeds."""
        self.handshake_failure = why
        actions = Actions()
        for pending in [p for v in self._pending.values() for p in v]:
            self._remove(pending)
            actions.deliveries.append((pending, self._unauthorized(pending.id)))
        return actions

    def handshake_succeeded(self) -> None:
        """A handshake went through: requests may be sent again."""
        self.handshake_failure = None

    def close(self) -> Actions:
        """The client closes: every request still waiting ends with ``cancelled``."""
        actions = Actions()
        for pending in [p for v in self._pending.values() for p in v]:
            self._remove(pending)
            actions.deliveries.append(
                (pending, self._error(pending.id, "cancelled", "the client was closed", pending))
            )
        return actions

    # ---- helpers ------------------------------------------------------------------------

    def _checks(self, pending: Pending) -> bool:
        return self.check_interval > 0 and pending.policy is not Policy.PLAIN

    def _check_due(self, pending: Pending, now: float) -> bool:
        if not self._checks(pending) or pending.ping_id != 0:
            return False
        return now - max(self.last_heard, pending.heard_at) >= self.check_interval

    def _ping_answered(self, message: Incoming, now: float, actions: Actions) -> None:
        ping_id = message.id
        asked = self._pings.pop(ping_id)
        unknown = message.body.get("unknown", []) if message.type == "result" else []
        for request_id in asked:
            for pending in self._pending.get(request_id, []):
                if pending.ping_id != ping_id:
                    continue
                pending.ping_id = 0
                pending.heard_at = now
                if request_id in unknown:
                    self._remove(pending)
                    actions.deliveries.append((pending, self._lost(pending)))

    def _give_up(self, pending: Pending, actions: Actions) -> None:
        """The local deadline passed with no final reply: stop the request and forget it."""
        if pending.cancel_at_deadline and not pending.cancel_sent:
            pending.cancel_sent = True
            actions.sends.append(encode("cancel", {"id": pending.id}))
        self._remove(pending)
        message = f"no reply from broker at {self.broker} within {pending.wait_ms} ms"
        actions.deliveries.append((pending, self._error(pending.id, "timeout", message, pending)))

    def _finish(self, pending: Pending, message: Incoming, actions: Actions) -> None:
        self._remove(pending)
        actions.deliveries.append((pending, message))

    def _is_waiting(self, pending: Pending) -> bool:
        return any(p is pending for p in self._pending.get(pending.id, []))

    def _remove(self, pending: Pending) -> None:
        waiting = self._pending.get(pending.id, [])
        waiting[:] = [p for p in waiting if p is not pending]
        if not waiting:
            self._pending.pop(pending.id, None)

    def _lost(self, pending: Pending) -> Incoming:
        return self._error(
            pending.id,
            "unavailable",
            f"the broker at {self.broker} no longer knows this request (it was restarted, or "
            "the connection to it was remade); a prompt may or may not have run",
            pending,
        )

    def _unauthorized(self, request_id: int) -> Incoming:
        return self._error(
            request_id, "unauthorized", f"broker at {self.broker}: {self.handshake_failure}"
        )

    @staticmethod
    def _error(
        request_id: int, code: str, message: str, pending: Optional[Pending] = None
    ) -> Incoming:
        partial = "".join(pending.partial) if pending is not None else ""
        return Incoming(
            "error",
            request_id,
            {"id": request_id, "code": code, "message": message, "partial": partial},
        )
