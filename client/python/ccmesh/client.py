"""The blocking client: :class:`Client`."""

from __future__ import annotations

import errno
import math
import os
import queue
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, Iterator, List, Optional, Sequence, Union

import zmq
from zmq.utils.monitor import parse_monitor_message

from . import calls
from . import types as t
from .calls import Call
from .connection import HANDSHAKE_EVENTS, CurveKeys, curve_keys, handshake_verdict, make_socket
from .errors import CcmeshError, InternalError
from .replies import feed_items, final_value, stream_item
from .request_book import Actions, Pending, RequestBook
from .wire import Incoming

DEFAULT_BROKER = "tcp://127.0.0.1:5555"


class _Engine:
    """One DEALER socket, owned by one I/O thread, shared by every caller of a Client.

    ZeroMQ sockets must not be used from two threads, so no caller touches the socket:
    callers register a request in the :class:`~ccmesh.request_book.RequestBook` under a
    lock, the book's frames go to an outbox, and the I/O thread (woken through a pipe)
    sends them, reads every reply, and hands each to the queue of the request it belongs to
    (by request id). The same thread ticks the book, so deadlines, silence checks and
    resends run even while no caller is inside the client.
    """

    def __init__(self, broker: str, curve: Optional[CurveKeys], check_interval: float) -> None:
        self.broker = broker
        self._lock = threading.Lock()  # guards _book, _outbox and _closing
        self._book = RequestBook(broker, check_interval)
        self._outbox: Deque[List[bytes]] = deque()
        self._closing = False
        self._curve = curve is not None
        self._context = zmq.Context()
        self._socket = make_socket(self._context, broker, curve)
        # Watched before connecting, so the first handshake is seen.
        self._monitor = self._socket.get_monitor_socket(HANDSHAKE_EVENTS)
        try:
            self._socket.connect(broker)
        except zmq.ZMQError as e:
            self._close_sockets()
            raise ValueError(f"bad broker endpoint {broker!r}: {e}") from e
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._thread = threading.Thread(target=self._run, name="ccmesh-client-io", daemon=True)
        self._thread.start()

    # ---- callers' side (any thread) -----------------------------------------------------

    def open(self, call: Call, wait: float, sink: Any, feed: bool = False) -> Pending:
        """Registers and sends a request; its replies go to ``sink``."""
        with self._lock:
            if self._closing:
                raise InternalError("internal", "the client is closed")
            body = dict(call.body)
            request_id = body.pop("id", None) or self._book.new_id()
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
            self._take(actions)
        self._wake()
        return pending

    def cancel(self, pending: Pending, abandon: bool) -> None:
        """Sends ``cancel`` for a request (see RequestBook.cancel)."""
        with self._lock:
            if self._closing:
                return
            self._take(self._book.cancel(pending, abandon))
        self._wake()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._take(self._book.close())
        self._wake()
        self._thread.join()
        self._context.term()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _take(self, actions: Actions) -> None:
        """Queues the book's sends and hands its replies over (lock held)."""
        self._outbox.extend(actions.sends)
        for pending, item in actions.deliveries:
            pending.sink(item)

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"x")
        except BlockingIOError:
            pass  # the pipe is full: the thread is woken already
        except OSError as e:
            if e.errno != errno.EBADF:
                raise

    # ---- the I/O thread -----------------------------------------------------------------

    def _run(self) -> None:
        poller = zmq.Poller()
        poller.register(self._monitor, zmq.POLLIN)
        poller.register(self._wake_read, zmq.POLLIN)
        try:
            while True:
                with self._lock:
                    if self._closing:
                        self._flush()  # the last cancels, if the socket takes them now
                        return
                    self._take(self._book.tick(time.monotonic()))
                    self._flush()
                    wait = self._book.next_wakeup(time.monotonic())
                    events = zmq.POLLIN | (zmq.POLLOUT if self._outbox else 0)
                poller.register(self._socket, events)
                timeout_ms = 1000 if math.isinf(wait) else max(1, math.ceil(wait * 1000))
                ready = dict(poller.poll(min(timeout_ms, 1000)))
                if self._wake_read in ready:
                    self._drain_wake_pipe()
                if self._monitor in ready:
                    self._read_monitor()
                self._read_socket()
        finally:
            self._close_sockets()

    def _flush(self) -> None:
        """Sends what the outbox holds while the socket takes it (lock held)."""
        while self._outbox:
            try:
                self._socket.send_multipart(self._outbox[0], flags=zmq.NOBLOCK)
            except zmq.Again:
                return  # full: POLLOUT says when there is room
            self._outbox.popleft()

    def _read_socket(self) -> None:
        while True:
            try:
                frames = self._socket.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            with self._lock:
                self._take(self._book.receive(frames, time.monotonic()))

    def _read_monitor(self) -> None:
        while True:
            try:
                event = parse_monitor_message(self._monitor.recv_multipart(flags=zmq.NOBLOCK))
            except zmq.Again:
                return
            verdict = handshake_verdict(event["event"], event["value"], self._curve)
            with self._lock:
                if verdict == "":
                    self._book.handshake_succeeded()
                elif verdict is not None:
                    self._take(self._book.handshake_failed(verdict))

    def _drain_wake_pipe(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    def _close_sockets(self) -> None:
        self._monitor.close(linger=0)
        self._socket.close(linger=0)


def settle(
    client: Any,
    broker: str,
    timeout: float,
    query_grace: float,
    curve: Optional[CurveKeys],
    *keys: Optional[Union[str, bytes]],
) -> Optional[CurveKeys]:
    """Checks and sets a client's common settings; returns its CURVE keys, if any."""
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    client.broker = broker  # the broker's frontend endpoint
    client.timeout = timeout  # default deadline of a call, seconds
    client.query_grace = query_grace  # extra wait for a query's own timeout reply
    return curve or curve_keys(*keys)


class _Inbox:
    """Where one request's replies wait for its caller."""

    def __init__(self, engine: _Engine) -> None:
        self._engine = engine
        self._items: "queue.SimpleQueue[Incoming]" = queue.SimpleQueue()
        self.put = self._items.put  # the sink the book calls

    def get(self) -> Incoming:
        """The next reply. Every request gets a final reply (the book makes one at the local
        deadline), so this blocks until it comes; the 1 s slices keep Ctrl-C and a dead I/O
        thread from going unnoticed."""
        while True:
            try:
                return self._items.get(timeout=1.0)
            except queue.Empty:
                if not self._engine.alive():
                    raise InternalError("internal", "the client's I/O thread is gone") from None


class _Replies:
    """The replies of one long request (a streamed query, a watch), read by iterating.

    The request is sent when the object is made. :meth:`close` - also on leaving a ``with``
    block, on an exception or Ctrl-C while waiting, and on garbage collection before the
    end - sends ``cancel`` and drops the request's remaining replies."""

    def __init__(self, engine: _Engine, call: Call, wait: float, feed: bool) -> None:
        self._engine = engine
        self._call = call
        self._inbox = _Inbox(engine)
        self._pending: Optional[Pending] = engine.open(call, wait, self._inbox.put, feed)
        self.id = self._pending.id  #: the request id
        self._ready: Deque[Any] = deque()  # values of a reply not returned yet

    def _value(self, item: Incoming) -> Any:
        """What the caller sees of a reply (None: nothing); raises for an error reply."""
        raise NotImplementedError

    def _values(self, item: Incoming) -> List[Any]:
        """What the caller sees of a reply, in order (a watch's replies carry several)."""
        value = self._value(item)
        return [] if value is None else [value]

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        if self._ready:
            return self._ready.popleft()
        if self._pending is None:
            raise StopIteration
        try:
            while True:
                item = self._inbox.get()
                if item.final:
                    self._pending = None
                values = self._values(item)
                if values:
                    self._ready.extend(values[1:])
                    return values[0]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stops the request if it has not ended: sends ``cancel``, drops its replies."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._engine.cancel(pending, abandon=True)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to tell
            pass


class Stream(_Replies):
    """The deltas of a streamed query, then its :class:`~ccmesh.types.Result` as last item.

    Iterate it (``for item in client.stream(...)``). Leaving the loop early (``break``, an
    exception, Ctrl-C), :meth:`close`, or the stream being garbage-collected before the end
    sends ``cancel``; the broker then stops the turn. An error reply raises its
    :class:`~ccmesh.CcmeshError` from the loop, with the text produced so far in
    ``partial``. After the end, :attr:`result` holds the Result.
    """

    def __init__(self, engine: _Engine, call: Call, wait: float) -> None:
        super().__init__(engine, call, wait, False)
        self.result: Optional[t.Result] = None  #: the Result, once it arrived

    def _value(self, item: Incoming) -> Optional[Union[t.Delta, t.Result]]:
        value = stream_item(self._call, item)
        if isinstance(value, t.Result):
            self.result = value
        return value

    def __iter__(self) -> Iterator[Union[t.Delta, t.Result]]:
        return self

    def __enter__(self) -> "Stream":
        return self


class Watch(_Replies):
    """The broker's events as :class:`~ccmesh.types.FeedEvent` values, until closed.

    Iterate it; :meth:`close` (or leaving a ``with`` block, or ``break`` then garbage
    collection) sends ``cancel``. The broker ending the watch raises from the loop:
    :class:`~ccmesh.BusyError` when this client did not keep up,
    :class:`~ccmesh.UnavailableError` when the broker was restarted (watch again).
    """

    def __init__(self, engine: _Engine, call: Call) -> None:
        super().__init__(engine, call, math.inf, True)

    def _values(self, item: Incoming) -> List[t.FeedEvent]:
        return feed_items(self._call, item)

    def __iter__(self) -> Iterator[t.FeedEvent]:
        return self

    def __enter__(self) -> "Watch":
        return self


class Lease:
    """A pool member checked out for this client; a context manager that checks it in.

    ``with client.checkout("pool", lease=60) as member: member.query("...")``. The member
    stays reserved until :meth:`checkin` (``with`` does it on leaving) or until the lease
    lapses in the broker.
    """

    def __init__(self, client: "Client", checkout: t.CheckoutResult) -> None:
        self._client = client
        self.checkout = checkout  #: what the broker granted
        self.pool = checkout.pool  #: the pool
        self.member = checkout.member  #: the member's session name
        self.lease_id = checkout.lease_id  #: the lease
        self.checked_in = False  #: checkin() went through

    def query(
        self,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> t.Result:
        """Runs a prompt on the member."""
        return self._client.query(self.member, prompt, timeout, on_permission)

    def stream(
        self,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> Stream:
        """Streams a prompt's answer from the member."""
        return self._client.stream(self.member, prompt, timeout, on_permission)

    def checkin(self) -> t.CheckinResult:
        """Gives the member back (once; NotFoundError if the lease lapsed meanwhile)."""
        result = self._client.checkin(self.pool, self.member, self.lease_id)
        self.checked_in = True
        return result

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if self.checked_in:
            return
        try:
            self.checkin()
        except CcmeshError:
            if exc_type is None:
                raise  # nothing else is propagating: say the checkin failed


class Client:
    """A blocking connection to a ccmesh broker, safe to share between threads.

    One DEALER socket serves every thread: an I/O thread owns it, and each call waits on
    its own queue for the replies carrying its request id (see ``_Engine``). Calls raise
    :class:`~ccmesh.CcmeshError` subclasses; each waits at most its deadline: ``timeout``
    seconds (the default of every call), plus ``query_grace`` for queries (the broker's own
    ``timeout`` reply, which carries the partial answer, gets that long to arrive).

    The liveness rules are the C++ client's: after ``broker_check`` seconds without a word
    from the broker, requests the broker holds (queries, start, terminate, restart, move,
    checkouts, watches) are checked on with a ``ping`` and end with
    :class:`~ccmesh.UnavailableError` if a restarted broker no longer knows them; read-only
    requests (info, list, count, status, transcript, pool_list, pool_info) are sent again.

    ``curve_server_key`` / ``curve_public`` / ``curve_secret`` (Z85 strings) turn on CURVE
    for a broker started with ``--curve-secret``; ``curve_public`` may be left out.
    :func:`~ccmesh.load_curve_keys` reads ``ccmesh keygen`` files. A broker that refuses the
    handshake makes calls end with :class:`~ccmesh.UnauthorizedError` at once.
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
        self._engine = _Engine(broker, keys, broker_check)

    # ---- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Ends every call still waiting (``cancelled``) and closes the socket."""
        self._engine.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- plumbing -----------------------------------------------------------------------

    def _wait_of(self, call: Call) -> float:
        wait = call.wait if call.wait is not None else self.timeout
        return wait + self.query_grace if call.is_query else wait

    def _run(self, call: Call) -> Any:
        inbox = _Inbox(self._engine)
        pending = self._engine.open(call, self._wait_of(call), inbox.put)
        try:
            while True:
                item = inbox.get()
                if item.final:
                    return final_value(call, item)
        except BaseException:
            # Ctrl-C (or any exception while waiting): stop the request, forget its reply.
            self._engine.cancel(pending, abandon=True)
            raise

    def request(
        self, message_type: str, body: Dict[str, Any], timeout: Optional[float] = None
    ) -> Dict[str, Any]:
        """Sends any request and returns its result body as a dict (for request types this
        package does not wrap). ``body["id"]``, if given, is used as the request id as is;
        the broker refuses one still in flight with :class:`~ccmesh.DuplicateIdError`."""
        result: Dict[str, Any] = self._run(calls.raw(message_type, body, timeout))
        return result

    # ---- sessions -----------------------------------------------------------------------

    def query(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> t.Result:
        """Runs one prompt on session ``name`` and returns its answer.

        ``timeout`` (seconds) is sent as the query's deadline; None leaves the session's
        ``query_timeout_ms`` (or the worker's default) in force and waits at most the
        client's timeout. Ctrl-C sends ``cancel`` and re-raises."""
        call = calls.query(name, prompt, False, timeout, on_permission=on_permission)
        result: t.Result = self._run(call)
        return result

    def stream(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> Stream:
        """Runs one prompt and streams its answer: :class:`~ccmesh.types.Delta` items, then
        the :class:`~ccmesh.types.Result`. Leaving the loop early cancels the query."""
        call = calls.query(name, prompt, True, timeout, on_permission=on_permission)
        return Stream(self._engine, call, self._wait_of(call))

    def start(
        self, name: str, options: Optional[t.SessionOptions] = None, **option: Any
    ) -> t.Ack:
        """Registers a session and places it on a worker. Options as a
        :class:`~ccmesh.SessionOptions` and/or keywords (``model="..."``, ``cwd="/srv"``)."""
        ack: t.Ack = self._run(calls.start(name, t.SessionOptions.of(options, **option)))
        return ack

    def fork(
        self, source: str, name: str, options: Optional[t.SessionOptions] = None, **option: Any
    ) -> t.Ack:
        """Starts session ``name`` continuing ``source``'s conversation under a conversation
        id of its own; ``source`` is left as it is. Options as for :meth:`start` (``name``'s
        own, not copied from ``source``)."""
        opts = t.SessionOptions.of(options, **option)
        ack: t.Ack = self._run(calls.start(name, opts, fork_of=source))
        return ack

    def terminate(self, name: str) -> t.Ack:
        """Stops a session gently and forgets its name."""
        ack: t.Ack = self._run(calls.terminate(name))
        return ack

    def restart(self, name: str, keep_history: bool = False, from_cut: bool = False) -> t.Ack:
        """Restarts a session's CLI: a fresh conversation unless ``keep_history``;
        ``from_cut`` accepts a cut conversation and continues from what is left."""
        ack: t.Ack = self._run(calls.restart(name, keep_history, from_cut))
        return ack

    def set(self, name: str, model: str = "", permission_mode: str = "") -> t.Ack:
        """Changes a session's model and/or permission mode between turns, without a
        restart (BusyError while a turn runs); kept for its restarts and moves."""
        ack: t.Ack = self._run(calls.set_live(name, model, permission_mode))
        return ack

    def context(self, name: str) -> t.ContextUsage:
        """How full the session's context is (UnavailableError without a running CLI)."""
        usage: t.ContextUsage = self._run(calls.context(name))
        return usage

    def usage(self, by: str = "session") -> t.UsageReport:
        """What turns cost and used, one row per session, pool, worker or model."""
        report: t.UsageReport = self._run(calls.usage(by))
        return report

    def budget(
        self, name: str, add_usd: float = 0.0, set_usd: Optional[float] = None,
        reset: bool = False,
    ) -> t.Budget:
        """Shows or changes the cluster-side budget of a session or pool: ``set_usd`` (0
        removes it), then ``add_usd``, then ``reset`` (count from zero again)."""
        budget: t.Budget = self._run(calls.budget(name, add_usd, set_usd, reset))
        return budget

    def info(self, name: str) -> t.SessionInfo:
        """One session as the broker knows it."""
        info: t.SessionInfo = self._run(calls.info(name))
        return info

    def move(self, name: str, worker: str) -> t.Ack:
        """Stops a session on its worker and continues its conversation on ``worker``."""
        ack: t.Ack = self._run(calls.move(name, worker))
        return ack

    def transcript(self, name: str) -> t.Transcript:
        """The transcript the broker keeps for a session."""
        transcript: t.Transcript = self._run(calls.transcript(name))
        return transcript

    def list(self) -> List[t.SessionInfo]:
        """Every session, sorted by name."""
        sessions: List[t.SessionInfo] = self._run(calls.list_sessions())
        return sessions

    def count(self) -> t.Count:
        """How many sessions, per state."""
        count: t.Count = self._run(calls.count())
        return count

    def status(self) -> t.Status:
        """The broker's workers and counters."""
        status: t.Status = self._run(calls.status())
        return status

    def ping(self) -> t.Pong:
        """Checks that the broker answers."""
        pong: t.Pong = self._run(calls.ping())
        return pong

    def watch(self, session: Optional[str] = None, pool: Optional[str] = None) -> Watch:
        """The broker's events as they happen (all, or one session's or pool's)."""
        return Watch(self._engine, calls.watch(session, pool))

    # ---- pools --------------------------------------------------------------------------

    def pool_create(
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
        """Creates a pool of ``size`` new sessions NAME/0.. (started with the options), or
        of the existing sessions ``members``. ``strategy``: round_robin (default),
        least_busy or random. ``fork_of``: every member continues that session's
        conversation."""
        opts = t.SessionOptions.of(options, **option)
        call = calls.pool_create(name, size, members, strategy, opts, fork_of)
        info: t.PoolInfo = self._run(call)
        return info

    def pool_query(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> t.Result:
        """Runs one prompt on the member pool ``name``'s strategy picks (``Result.session``)."""
        result: t.Result = self._run(calls.query(name, prompt, False, timeout, True, on_permission))
        return result

    def pool_stream(
        self,
        name: str,
        prompt: str,
        timeout: Optional[float] = None,
        on_permission: Optional[t.PermissionHandler] = None,
    ) -> Stream:
        """:meth:`pool_query`, streamed as :meth:`stream` does."""
        call = calls.query(name, prompt, True, timeout, True, on_permission)
        return Stream(self._engine, call, self._wait_of(call))

    def pool_list(self) -> List[t.PoolInfo]:
        """Every pool, sorted by name."""
        pools: List[t.PoolInfo] = self._run(calls.pool_list())
        return pools

    def pool_info(self, name: str) -> t.PoolInfo:
        """One pool: members, checkouts, counters."""
        info: t.PoolInfo = self._run(calls.pool_info(name))
        return info

    def pool_resize(self, name: str, size: int) -> t.PoolInfo:
        """Grows or shrinks a pool that created its members."""
        info: t.PoolInfo = self._run(calls.pool_resize(name, size))
        return info

    def pool_delete(self, name: str) -> t.PoolInfo:
        """Deletes a pool (terminating the members it created)."""
        info: t.PoolInfo = self._run(calls.pool_delete(name))
        return info

    def checkout(
        self, pool: str, lease: Optional[float] = None, wait: Optional[float] = None
    ) -> Lease:
        """Reserves an idle member of ``pool`` for ``lease`` seconds (None: the broker's
        60 s), waiting up to ``wait`` seconds (None: the client's timeout) for one to be
        free, else :class:`~ccmesh.PoolExhaustedError`. Use the :class:`Lease` in a ``with``
        block to check the member back in."""
        call = calls.pool_checkout(pool, lease, wait or self.timeout, self.query_grace)
        return Lease(self, self._run(call))

    def checkin(self, pool: str, member: str, lease_id: int = 0) -> t.CheckinResult:
        """Gives a checked-out member back (``lease_id`` 0: any lease this client holds)."""
        result: t.CheckinResult = self._run(calls.pool_checkin(pool, member, lease_id))
        return result
