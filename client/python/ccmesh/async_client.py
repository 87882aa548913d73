"""The asyncio client: :class:`AsyncClient`, on ``zmq.asyncio``."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Any, AsyncIterator, Deque, Dict, List, Optional, Sequence, Union

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from . import calls
from . import types as t
from .calls import Call
from .client import DEFAULT_BROKER, settle
from .connection import HANDSHAKE_EVENTS, CurveKeys, handshake_verdict, make_socket
from .errors import CcmeshError, InternalError
from .replies import feed_items, final_value, stream_item
from .request_book import Actions, Pending, RequestBook
from .wire import Incoming


class _AsyncReplies:
    """The replies of one long request, read with ``async for`` (see client._Replies):
    ``aclose()``, ``async with``, task cancellation while waiting, and garbage collection
    before the end send ``cancel``."""

    def __init__(self, client: "AsyncClient", call: Call, feed: bool) -> None:
        self._client = client
        self._call = call
        self._items: "asyncio.Queue[Incoming]" = asyncio.Queue()
        self._pending: Optional[Pending] = client._open(call, self._items.put_nowait, feed)
        self.id = self._pending.id  #: the request id
        self._ready: Deque[Any] = deque()  # values of a reply not returned yet

    def _value(self, item: Incoming) -> Any:
        """What the caller sees of a reply (None: nothing); raises for an error reply."""
        raise NotImplementedError

    def _values(self, item: Incoming) -> List[Any]:
        """What the caller sees of a reply, in order (a watch's replies carry several)."""
        value = self._value(item)
        return [] if value is None else [value]

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        if self._ready:
            return self._ready.popleft()
        if self._pending is None:
            raise StopAsyncIteration
        try:
            while True:
                item = await self._items.get()
                if item.final:
                    self._pending = None
                values = self._values(item)
                if values:
                    self._ready.extend(values[1:])
                    return values[0]
        except BaseException:
            self.close()  # cancelled task, or the error reply: stop the request if it runs
            raise

    def close(self) -> None:
        """Stops the request if it has not ended: sends ``cancel``, drops its replies."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._client._cancel(pending)

    async def aclose(self) -> None:
        self.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the loop is gone: nothing left to stop
            pass


class AsyncStream(_AsyncReplies):
    """The deltas of a streamed query, then its Result: ``async for item in stream``."""

    def __init__(self, client: "AsyncClient", call: Call) -> None:
        super().__init__(client, call, False)
        self.result: Optional[t.Result] = None  #: the Result, once it arrived

    def _value(self, item: Incoming) -> Optional[Union[t.Delta, t.Result]]:
        value = stream_item(self._call, item)
        if isinstance(value, t.Result):
            self.result = value
        return value

    def __aiter__(self) -> AsyncIterator[Union[t.Delta, t.Result]]:
        return self


class AsyncWatch(_AsyncReplies):
    """The broker's events, ``async for event in watch``, until closed (see Watch)."""

    def __init__(self, client: "AsyncClient", call: Call) -> None:
        super().__init__(client, call, True)

    def _values(self, item: Incoming) -> List[t.FeedEvent]:
        return feed_items(self._call, item)

    def __aiter__(self) -> AsyncIterator[t.FeedEvent]:
        return self


class AsyncLease:
    """A checked-out pool member: ``async with client.checkout("pool") as member:`` checks
    it out on entry and back in on exit; ``lease = await client.checkout("pool")`` checks it
    out and leaves :meth:`checkin` to the caller."""

    def __init__(self, client: "AsyncClient", call: Call) -> None:
        self._client = client
        self._call = call
        self.checkout: Optional[t.CheckoutResult] = None  #: what the broker granted
        self.pool = ""  #: the pool
        self.member = ""  #: the member's session name
        self.lease_id = 0  #: the lease
        self.checked_in = False  #: checkin() went through

    async def _check_out(self) -> "AsyncLease":
        granted: t.CheckoutResult = await self._client._run(self._call)
        self.checkout = granted
        self.pool, self.member, self.lease_id = granted.pool, granted.member, granted.lease_id
        return self

    def __await__(self) -> Any:
        return self._check_out().__await__()

    async def query(
        self,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> t.Result:
        return await self._client.query(self.member, prompt, timeout, on_permission)

    def stream(
        self,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> AsyncStream:
        return self._client.stream(self.member, prompt, timeout, on_permission)

    async def checkin(self) -> t.CheckinResult:
        result = await self._client.checkin(self.pool, self.member, self.lease_id)
        self.checked_in = True
        return result

    async def __aenter__(self) -> "AsyncLease":
        return await self._check_out()

    async def __aexit__(self, exc_type: Any, *exc: Any) -> None:
        if self.checked_in or self.checkout is None:
            return
        try:
            await self.checkin()
        except CcmeshError:
            if exc_type is None:
                raise


class AsyncClient:
    """An asyncio connection to a ccmesh broker, shared by any number of tasks of one loop.

    One ``zmq.asyncio`` DEALER socket; a reader task receives every reply and hands it to
    the queue of the request whose id it carries, a timer task runs the deadlines, silence
    checks and resends of the :class:`~ccmesh.request_book.RequestBook`, and a third task
    reads the socket's handshake events. Tasks start with the first call (or ``async
    with``), on the running loop; the client belongs to that loop from then on.
    Arguments and liveness rules are :class:`~ccmesh.Client`'s; calls are coroutines.
    """

    def __init__(
        self,
        broker: str = DEFAULT_BROKER,
        curve_server_key: Optional[Union[str, bytes]] = None,
        curve_public: Optional[Union[str, bytes]] = None,
        curve_secret: Optional[Union[str, bytes]] = None,
        timeout: float = 60.0,
        *,
        curve: Optional[CurveKeys] = None,
        query_grace: float = 2.0,
        broker_check: float = 1.0,
    ) -> None:
        keys = settle(self, broker, timeout, query_grace, curve, curve_server_key, curve_public,
                      curve_secret)
        self._curve = keys is not None
        self._book = RequestBook(broker, broker_check)
        self._context = zmq.asyncio.Context()
        self._socket = make_socket(self._context, broker, keys)
        self._monitor = self._socket.get_monitor_socket(HANDSHAKE_EVENTS)
        try:
            self._socket.connect(broker)
        except zmq.ZMQError as e:
            self._monitor.close(linger=0)
            self._socket.close(linger=0)
            raise ValueError(f"bad broker endpoint {broker!r}: {e}") from e
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._tasks: List["asyncio.Task[None]"] = []
        self._rearm: Optional[asyncio.Event] = None  # wakes the timer task early
        self._sends: "set[asyncio.Future[Any]]" = set()  # sends not done yet
        self._closed = False

    # ---- lifetime -----------------------------------------------------------------------

    async def __aenter__(self) -> "AsyncClient":
        self._ensure_started()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Ends every call still waiting (``cancelled``) and closes the socket."""
        if self._closed:
            return
        self._closed = True
        self._apply(self._book.close())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._monitor.close(linger=0)
        self._socket.close(linger=0)
        self._context.term()

    def _ensure_started(self) -> None:
        if self._closed:
            raise InternalError("internal", "the client is closed")
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._rearm = asyncio.Event()
        for job in (self._read_replies, self._read_handshakes, self._run_timers):
            self._tasks.append(self._loop.create_task(job()))

    # ---- the book's I/O -----------------------------------------------------------------

    def _apply(self, actions: Actions) -> None:
        for frames in actions.sends:
            future = self._socket.send_multipart(frames)
            self._sends.add(future)
            future.add_done_callback(self._sent)
        for pending, item in actions.deliveries:
            pending.sink(item)

    def _sent(self, future: "asyncio.Future[Any]") -> None:
        self._sends.discard(future)
        if not future.cancelled():
            future.exception()  # retrieved: a send that failed is the deadline's business

    def _open(self, call: Call, sink: Any, feed: bool = False) -> Pending:
        self._ensure_started()
        body = dict(call.body)
        request_id = body.pop("id", None) or self._book.new_id()
        wait = call.wait if call.wait is not None else self.timeout
        if call.is_query:
            wait += self.query_grace
        if feed:
            wait = math.inf
        pending, actions = self._book.open(
            request_id,
            call.type,
            body,
            call.policy,
            wait,
            sink,
            time.monotonic(),
            cancel_at_deadline=call.is_query,
            feed=feed,
            on_permission=call.on_permission,
        )
        self._apply(actions)
        assert self._rearm is not None
        self._rearm.set()
        return pending

    def _cancel(self, pending: Pending) -> None:
        """Sends ``cancel`` and drops the request's replies; callable from any thread."""
        loop = self._loop
        if self._closed or loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._apply(self._book.cancel(pending, abandon=True))
        else:
            loop.call_soon_threadsafe(
                lambda: None if self._closed else self._apply(self._book.cancel(pending, True))
            )

    async def _read_replies(self) -> None:
        while True:
            frames = await self._socket.recv_multipart()
            self._apply(self._book.receive(frames, time.monotonic()))

    async def _read_handshakes(self) -> None:
        while True:
            event = parse_monitor_message(await self._monitor.recv_multipart())
            verdict = handshake_verdict(event["event"], event["value"], self._curve)
            if verdict == "":
                self._book.handshake_succeeded()
            elif verdict is not None:
                self._apply(self._book.handshake_failed(verdict))

    async def _run_timers(self) -> None:
        assert self._rearm is not None
        while True:
            now = time.monotonic()
            self._apply(self._book.tick(now))
            wait = min(self._book.next_wakeup(now), 3600.0)
            self._rearm.clear()
            try:
                await asyncio.wait_for(self._rearm.wait(), wait)
            except asyncio.TimeoutError:
                pass

    async def _run(self, call: Call) -> Any:
        items: "asyncio.Queue[Incoming]" = asyncio.Queue()
        pending = self._open(call, items.put_nowait)
        try:
            while True:
                item = await items.get()
                if item.final:
                    return final_value(call, item)
        except BaseException:
            self._cancel(pending)  # task cancelled: stop the request, forget its reply
            raise

    async def request(
        self, message_type: str, body: Dict[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Any request; its result body as a dict (see Client.request)."""
        result: Dict[str, Any] = await self._run(calls.raw(message_type, body, timeout))
        return result

    # ---- sessions -----------------------------------------------------------------------

    async def query(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> t.Result:
        """Runs one prompt on session ``name`` (see Client.query); cancelling the task
        sends ``cancel``."""
        call = calls.query(name, prompt, False, timeout, on_permission=on_permission)
        result: t.Result = await self._run(call)
        return result

    def stream(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> AsyncStream:
        """Streams one prompt's answer: ``async for item in client.stream(...)``."""
        call = calls.query(name, prompt, True, timeout, on_permission=on_permission)
        return AsyncStream(self, call)

    async def start(
        self, name: str, options: Optional[t.SessionOptions] = None, **option: Any
    ) -> t.Ack:
        ack: t.Ack = await self._run(calls.start(name, t.SessionOptions.of(options, **option)))
        return ack

    async def fork(
        self, source: str, name: str, options: Optional[t.SessionOptions] = None, **option: Any
    ) -> t.Ack:
        opts = t.SessionOptions.of(options, **option)
        ack: t.Ack = await self._run(calls.start(name, opts, fork_of=source))
        return ack

    async def terminate(self, name: str) -> t.Ack:
        ack: t.Ack = await self._run(calls.terminate(name))
        return ack

    async def restart(
        self, name: str, keep_history: bool = False, from_cut: bool = False
    ) -> t.Ack:
        ack: t.Ack = await self._run(calls.restart(name, keep_history, from_cut))
        return ack

    async def set(self, name: str, model: str = "", permission_mode: str = "") -> t.Ack:
        """Changes a session's model and/or permission mode between turns, without a
        restart (BusyError while a turn runs); kept for its restarts and moves."""
        ack: t.Ack = await self._run(calls.set_live(name, model, permission_mode))
        return ack

    async def context(self, name: str) -> t.ContextUsage:
        """How full the session's context is (UnavailableError without a running CLI)."""
        usage: t.ContextUsage = await self._run(calls.context(name))
        return usage

    async def usage(self, by: str = "session") -> t.UsageReport:
        """What turns cost and used, one row per session, pool, worker or model."""
        report: t.UsageReport = await self._run(calls.usage(by))
        return report

    async def budget(
        self, name: str, add_usd: float = 0.0, set_usd: Optional[float] = None,
        reset: bool = False,
    ) -> t.Budget:
        """Shows or changes the cluster-side budget of a session or pool: ``set_usd`` (0
        removes it), then ``add_usd``, then ``reset`` (count from zero again)."""
        budget: t.Budget = await self._run(calls.budget(name, add_usd, set_usd, reset))
        return budget

    async def info(self, name: str) -> t.SessionInfo:
        info: t.SessionInfo = await self._run(calls.info(name))
        return info

    async def move(self, name: str, worker: str) -> t.Ack:
        ack: t.Ack = await self._run(calls.move(name, worker))
        return ack

    async def transcript(self, name: str) -> t.Transcript:
        transcript: t.Transcript = await self._run(calls.transcript(name))
        return transcript

    async def list(self) -> List[t.SessionInfo]:
        sessions: List[t.SessionInfo] = await self._run(calls.list_sessions())
        return sessions

    async def count(self) -> t.Count:
        count: t.Count = await self._run(calls.count())
        return count

    async def status(self) -> t.Status:
        status: t.Status = await self._run(calls.status())
        return status

    async def ping(self) -> t.Pong:
        pong: t.Pong = await self._run(calls.ping())
        return pong

    def watch(self, session: Optional[str] = None, pool: Optional[str] = None) -> AsyncWatch:
        return AsyncWatch(self, calls.watch(session, pool))

    # ---- pools --------------------------------------------------------------------------

    async def pool_create(
        self,
        name: str,
        size: Optional[int] = None,
        *,
        members: Optional[Sequence[str]] = None,
        strategy: str = "",
        options: Optional[t.SessionOptions] = None,
        fork_of: str = "",
        **option: Any,
    ) -> t.PoolInfo:
        opts = t.SessionOptions.of(options, **option)
        call = calls.pool_create(name, size, members, strategy, opts, fork_of)
        info: t.PoolInfo = await self._run(call)
        return info

    async def pool_query(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> t.Result:
        call = calls.query(name, prompt, False, timeout, True, on_permission)
        result: t.Result = await self._run(call)
        return result

    def pool_stream(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> AsyncStream:
        return AsyncStream(self, calls.query(name, prompt, True, timeout, True, on_permission))

    async def pool_list(self) -> List[t.PoolInfo]:
        pools: List[t.PoolInfo] = await self._run(calls.pool_list())
        return pools

    async def pool_info(self, name: str) -> t.PoolInfo:
        info: t.PoolInfo = await self._run(calls.pool_info(name))
        return info

    async def pool_resize(self, name: str, size: int) -> t.PoolInfo:
        info: t.PoolInfo = await self._run(calls.pool_resize(name, size))
        return info

    async def pool_delete(self, name: str) -> t.PoolInfo:
        info: t.PoolInfo = await self._run(calls.pool_delete(name))
        return info

    def checkout(
        self, pool: str, lease: Optional[float] = None, wait: Optional[float] = None
    ) -> AsyncLease:
        """``async with client.checkout(pool) as member:`` (or ``await``); see Client."""
        call = calls.pool_checkout(pool, lease, wait or self.timeout, self.query_grace)
        return AsyncLease(self, call)

    async def checkin(self, pool: str, member: str, lease_id: int = 0) -> t.CheckinResult:
        result: t.CheckinResult = await self._run(calls.pool_checkin(pool, member, lease_id))
        return result
