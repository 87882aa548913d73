"""ccmesh: a Python client of the ccmesh broker (docs/PROTOCOL.md).

>>> from ccmesh import Client
>>> with Client("tcp://127.0.0.1:5555") as client:
...     print(client.query("code_reviewer", "Review main.cpp").text)

:class:`Client` blocks and may be shared by threads; :class:`AsyncClient` is its asyncio
twin. Failures raise :class:`CcmeshError` subclasses, one per error code.
"""

from .async_client import AsyncClient, AsyncLease, AsyncStream, AsyncWatch
from .client import DEFAULT_BROKER, Client, Lease, Stream, Watch
from .connection import CurveKeys, load_curve_keys
from .errors import (
    AlreadyExistsError,
    BadRequestError,
    BudgetExhaustedError,
    BusyError,
    CancelledError,
    CcmeshError,
    ConversationIncompleteError,
    DuplicateIdError,
    InternalError,
    NotFoundError,
    NotLeaderError,
    PoolExhaustedError,
    SessionCrashedError,
    SessionFailedError,
    TimeoutError,
    UnauthorizedError,
    UnavailableError,
    VersionMismatchError,
    WorkerLostError,
)
from .types import (
    Ack,
    CheckinResult,
    CheckoutResult,
    Budget,
    ContextUsage,
    Count,
    Delta,
    FeedEvent,
    PermissionAnswer,
    PermissionRequest,
    PoolInfo,
    PoolMember,
    Pong,
    Result,
    SessionInfo,
    SessionOptions,
    Status,
    Transcript,
    Usage,
    UsageReport,
    UsageRow,
    WorkerInfo,
)

__version__ = "0.2.0"

__all__ = [
    "AsyncClient", "AsyncLease", "AsyncStream", "AsyncWatch", "Client", "Lease", "Stream",
    "Watch", "DEFAULT_BROKER", "CurveKeys", "load_curve_keys", "CcmeshError",
    "AlreadyExistsError", "BadRequestError", "BudgetExhaustedError", "BusyError", "CancelledError",
    "ConversationIncompleteError", "DuplicateIdError", "InternalError", "NotFoundError",
    "NotLeaderError", "PoolExhaustedError", "SessionCrashedError", "SessionFailedError",
    "TimeoutError",
    "UnauthorizedError", "UnavailableError", "VersionMismatchError", "WorkerLostError", "Ack",
    "CheckinResult", "CheckoutResult", "Budget", "ContextUsage", "Count", "Delta", "FeedEvent",
    "PermissionAnswer", "PermissionRequest", "PoolInfo", "PoolMember", "Pong", "Result",
    "SessionInfo", "SessionOptions", "Status", "Transcript", "Usage", "UsageReport", "UsageRow",
    "WorkerInfo",
]
