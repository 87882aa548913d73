"""How a request's replies become what the caller sees: values, deltas or exceptions."""

from __future__ import annotations

from typing import Any, List, Optional, Union

from . import types as t
from .calls import Call
from .errors import CcmeshError, InternalError, error_from_reply
from .wire import Incoming


def final_value(call: Call, item: Incoming) -> Any:
    """The decoded result of a final reply; raises the CcmeshError of an error reply."""
    if item.type == "error":
        raise error_from_reply(item.body)
    if item.type != "result":
        raise InternalError("internal", f"unexpected {item.type!r} reply to {call.type}")
    try:
        return call.decode(item.body)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InternalError("internal", f"malformed {call.type} result: {e}") from e


def stream_item(call: Call, item: Incoming) -> Optional[Union[t.Delta, t.Result]]:
    """A query's event as a Delta (None for kinds to ignore), or its final Result (raises
    for an error)."""
    if item.type == "event":
        if item.body.get("kind") != "delta":
            return None  # unknown kinds are ignored
        return t.Delta(int(item.body.get("seq", 0)), str(item.body.get("text", "")))
    value = final_value(call, item)
    assert isinstance(value, t.Result)
    return value


def feed_items(call: Call, item: Incoming) -> List[t.FeedEvent]:
    """A watch's batch of events, oldest first; its end raises (``cancelled`` after close,
    ``busy``, ...)."""
    if item.type == "event":
        return [t.from_wire(t.FeedEvent, event) for event in item.body.get("events", [])]
    if item.type == "result":
        raise InternalError("internal", "the broker ended the watch with a result")
    raise error_from_reply(item.body)


def is_cancelled(error: CcmeshError) -> bool:
    return error.code == "cancelled"
