"""Errors as exceptions: one class per error code of the protocol (docs/PROTOCOL.md).

Every failure of a call ends as a :class:`CcmeshError` subclass named after its wire code
(``not_found`` -> :class:`NotFoundError`). Each carries the stable ``code``, a ``message``
for people, the ``partial`` answer text produced before the failure (for ``timeout``,
``cancelled``, ``session_crashed`` and ``worker_lost``) and the ``session`` concerned, if any.
A code this package does not know raises :class:`CcmeshError` itself, ``code`` holding it.
"""

from __future__ import annotations

import builtins
from typing import Any, Mapping


class CcmeshError(Exception):
    """A request ended with an error reply (or the client ended it locally, see below).

    The client itself ends a request with ``timeout`` when no reply came before its
    deadline, with ``unavailable`` when the broker no longer knows a request in flight (it
    was restarted), and with ``unauthorized`` when the broker refused the CURVE handshake.
    """

    #: the wire code of this class; the base class has none of its own
    wire_code = ""

    def __init__(self, code: str, message: str, partial: str = "", session: str = "") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code  #: the stable error code, e.g. "not_found"
        self.message = message  #: what went wrong, for people
        self.partial = partial  #: answer text produced before the failure, if any
        self.session = session  #: the session concerned, if the broker said


class NotFoundError(CcmeshError):
    """No session (or pool, or checked-out member) of that name."""

    wire_code = "not_found"


class AlreadyExistsError(CcmeshError):
    """``start`` or ``pool_create`` of a name already taken."""

    wire_code = "already_exists"


class BusyError(CcmeshError):
    """A queue is full, or the client is at its quota of requests or sessions."""

    wire_code = "busy"


class TimeoutError(CcmeshError, builtins.TimeoutError):  # noqa: A001 - the code's name
    """The deadline passed; ``partial`` holds what was produced. Also a builtin TimeoutError."""

    wire_code = "timeout"


class CancelledError(CcmeshError):
    """Cancelled by the client or a restart of the session (not asyncio.CancelledError)."""

    wire_code = "cancelled"


class WorkerLostError(CcmeshError):
    """The worker died after the prompt reached its CLI; the prompt is never re-run."""

    wire_code = "worker_lost"


class SessionCrashedError(CcmeshError):
    """The CLI exited during the turn."""

    wire_code = "session_crashed"


class SessionFailedError(CcmeshError):
    """The session restarted too often and is FAILED until restarted."""

    wire_code = "session_failed"


class UnavailableError(CcmeshError):
    """No worker in time, a broker that lost the request (restarted), or the model API failed."""

    wire_code = "unavailable"


class PoolExhaustedError(CcmeshError):
    """Every member of a pool refused the query, or no member was free for a checkout."""

    wire_code = "pool_exhausted"


class BadRequestError(CcmeshError):
    """Malformed message, bad field, oversized value or invalid option."""

    wire_code = "bad_request"


class DuplicateIdError(CcmeshError):
    """The id of a request still in flight; that request goes on and gets its own reply."""

    wire_code = "duplicate_id"


class UnauthorizedError(CcmeshError):
    """The key or its role may not do this, or the broker refused the CURVE handshake."""

    wire_code = "unauthorized"


class VersionMismatchError(CcmeshError):
    """Frame 0 was not the protocol tag ``CCM1``."""

    wire_code = "version_mismatch"


class InternalError(CcmeshError):
    """An unexpected failure, or the CLI ended the turn with an error of its own."""

    wire_code = "internal"


class ConversationIncompleteError(CcmeshError):
    """The session's conversation was cut; ``restart(from_cut=True)`` continues from it."""

    wire_code = "conversation_incomplete"


class BudgetExhaustedError(CcmeshError):
    """The session spent its ``max_budget_usd``: the turn stopped there."""

    wire_code = "budget_exhausted"


class NotLeaderError(CcmeshError):
    """A standby broker answered: only the leader of a high-availability cluster serves.

    The reply's ``leader`` field names the leader's endpoint, or is empty while the standby
    knows no leader (then no broker it knows of serves: try another, or wait).
    """

    wire_code = "not_leader"


#: wire code -> exception class
ERROR_CLASSES: dict[str, type[CcmeshError]] = {
    cls.wire_code: cls
    for cls in (
        NotFoundError,
        AlreadyExistsError,
        BusyError,
        TimeoutError,
        CancelledError,
        WorkerLostError,
        SessionCrashedError,
        SessionFailedError,
        UnavailableError,
        PoolExhaustedError,
        NotLeaderError,
        BadRequestError,
        DuplicateIdError,
        UnauthorizedError,
        VersionMismatchError,
        InternalError,
        ConversationIncompleteError,
        BudgetExhaustedError,
    )
}


def error_from_reply(body: Mapping[str, Any]) -> CcmeshError:
    """The exception for an ``error`` reply body (``code``, ``message``, ``partial``, ...)."""
    code = str(body.get("code") or "internal")
    cls = ERROR_CLASSES.get(code, CcmeshError)
    return cls(
        code,
        str(body.get("message", "")),
        str(body.get("partial", "") or ""),
        str(body.get("session", "") or ""),
    )


def exit_status(code: str) -> int:
    """The ``ccmesh`` tool's exit status for an error code."""
    return {"bad_request": 2, "duplicate_id": 2, "not_found": 3, "busy": 4, "timeout": 5}.get(
        code, 1
    )
