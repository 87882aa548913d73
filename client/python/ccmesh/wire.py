"""Frames and bodies of the CCM1 protocol (docs/PROTOCOL.md "Transport").

A message is three frames on a DEALER socket: the tag ``CCM1``, the message type and one
msgpack map with string keys. Nothing here touches a socket.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import msgpack

TAG = b"CCM1"
#: the broker takes at most this many bytes per body; it drops a connection that sends more
MAX_BODY_BYTES = 64 << 20


class Policy(enum.Enum):
    """What the client does while a request waits in silence (docs/PROTOCOL.md PingResult)."""

    #: waits for its deadline (ping, pool_create, pool_checkin, pool_resize, pool_delete)
    PLAIN = "plain"
    #: the broker holds it until it ends: after a silence, a ``ping`` listing it asks
    #: whether the broker still knows it; if not it ends with ``unavailable``
    TRACKED = "tracked"
    #: reads the broker's state, answered at once: after a silence it is sent again, same
    #: id, and a second answer is dropped
    READ_ONLY = "read_only"


#: request types the broker holds until they end (the C++ client checks on them by ping)
TRACKED_TYPES = frozenset(
    {
        "query", "pool_query", "start", "terminate", "restart", "move", "set", "context",
        "pool_checkout", "watch",
    }
)
#: request types that only read the broker's state (common/src/message_type.cpp isReadOnly)
READ_ONLY_TYPES = frozenset(
    {"info", "transcript", "list", "count", "status", "pool_list", "pool_info", "usage"}
)


def policy_of(message_type: str) -> Policy:
    """The liveness policy of a request type, as the C++ client applies it."""
    if message_type in TRACKED_TYPES:
        return Policy.TRACKED
    if message_type in READ_ONLY_TYPES:
        return Policy.READ_ONLY
    return Policy.PLAIN


def encode(message_type: str, body: Dict[str, Any]) -> List[bytes]:
    """The three frames of a message."""
    return [TAG, message_type.encode("ascii"), msgpack.packb(body, use_bin_type=True)]


@dataclass(frozen=True)
class Incoming:
    """A message from the broker, decoded as far as its frames go."""

    type: str  #: event, permission_request, result or error
    id: int  #: the request it belongs to (0: not readable)
    body: Dict[str, Any]  #: the msgpack map

    @property
    def final(self) -> bool:
        """A request's last reply: anything but an ``event`` or a ``permission_request``."""
        return self.type not in ("event", "permission_request")


def decode(frames: Sequence[bytes]) -> Optional[Incoming]:
    """A broker message, or None when it is not three frames of CCM1 with a map body."""
    if len(frames) != 3 or bytes(frames[0]) != TAG:
        return None
    try:
        body = msgpack.unpackb(bytes(frames[2]), raw=False, strict_map_key=False)
        message_type = bytes(frames[1]).decode("ascii")
    except (ValueError, UnicodeDecodeError, msgpack.UnpackException):
        return None
    if not isinstance(body, dict):
        return None
    request_id = body.get("id", 0)
    if not isinstance(request_id, int) or isinstance(request_id, bool) or request_id < 0:
        request_id = 0
    return Incoming(message_type, request_id, body)
