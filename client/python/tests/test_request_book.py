"""The liveness rules, driven with no socket: inputs in, Actions out, time moved by hand."""

from __future__ import annotations

import math
from typing import List

import msgpack

from ccmesh.request_book import RequestBook
from ccmesh.wire import Incoming, Policy, encode


def reply(kind: str, body: dict) -> list:
    return encode(kind, body)


class Sink:
    def __init__(self) -> None:
        self.items: List[Incoming] = []

    def __call__(self, item: Incoming) -> None:
        self.items.append(item)


def sent(actions) -> List[tuple]:
    return [(f[1].decode(), msgpack.unpackb(f[2])) for f in actions.sends]


def test_tracked_request_is_checked_by_ping_after_silence_and_ends_unavailable_if_unknown():
    book = RequestBook("tcp://b", 1.0)
    sink = Sink()
    pending, actions = book.open(7, "query", {"session": "s"}, Policy.TRACKED, 60, sink, 0.0)
    assert [t for t, _ in sent(actions)] == ["query"]
    assert sent(book.tick(0.5)) == []
    assert book.next_wakeup(0.5) == 0.5
    pings = sent(book.tick(1.0))
    assert pings[0][0] == "ping" and pings[0][1]["pending"] == [7]
    assert sent(book.tick(3.0)) == []  # one ping at a time per request
    ping_id = pings[0][1]["id"]
    book.receive(reply("result", {"id": ping_id, "unknown": [7]}), 3.1).run(lambda f: None)
    assert [i.body["code"] for i in sink.items] == ["unavailable"]
    assert book.waiting() == 0


def test_known_request_keeps_waiting_and_its_reply_after_the_ping_wins():
    book = RequestBook("tcp://b", 1.0)
    sink = Sink()
    book.open(7, "start", {}, Policy.TRACKED, 60, sink, 0.0)
    ping_id = sent(book.tick(1.0))[0][1]["id"]
    book.receive(reply("result", {"id": 7, "state": "idle"}), 1.1).run(lambda f: None)
    book.receive(reply("result", {"id": ping_id, "unknown": [7]}), 1.2).run(lambda f: None)
    assert [i.type for i in sink.items] == ["result"]


def test_read_only_request_is_sent_again_after_1_2_4_seconds_and_a_second_answer_dropped():
    book = RequestBook("tcp://b", 1.0)
    sink = Sink()
    book.open(3, "list", {}, Policy.READ_ONLY, 60, sink, 0.0)
    resends = [t for t in [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 7.0, 8.0] if sent(book.tick(t))]
    assert resends == [1.0, 2.0, 4.0, 8.0]
    book.receive(reply("result", {"id": 3, "sessions": []}), 8.1).run(lambda f: None)
    book.receive(reply("result", {"id": 3, "sessions": []}), 8.2).run(lambda f: None)
    assert len(sink.items) == 1


def test_duplicate_and_late_replies_are_dropped():
    book = RequestBook("tcp://b", 1.0)
    sink = Sink()
    book.open(5, "query", {}, Policy.TRACKED, 60, sink, 0.0)
    for seq, text in [(0, "a"), (1, "b"), (1, "b"), (0, "a"), (2, "c")]:
        book.receive(reply("event", {"id": 5, "seq": seq, "kind": "delta", "text": text}), 0.1).run(
            lambda f: None
        )
    book.receive(reply("result", {"id": 5, "text": "abc"}), 0.2).run(lambda f: None)
    book.receive(reply("result", {"id": 5, "text": "abc"}), 0.3).run(lambda f: None)
    assert [i.body.get("text") for i in sink.items] == ["a", "b", "c", "abc"]


def test_local_deadline_cancels_a_query_and_ends_it_with_timeout_and_partial():
    book = RequestBook("tcp://b", 0)
    sink = Sink()
    book.open(9, "query", {}, Policy.TRACKED, 2.5, sink, 0.0, cancel_at_deadline=True)
    book.receive(reply("event", {"id": 9, "seq": 0, "kind": "delta", "text": "tu"}), 1).run(
        lambda f: None
    )
    assert book.next_wakeup(1.0) == 1.5
    actions = book.tick(2.5)
    actions.run(lambda f: None)
    assert sent(actions) == [("cancel", {"id": 9})]
    assert sink.items[-1].body["code"] == "timeout"
    assert sink.items[-1].body["partial"] == "tu"
    assert "within 2500 ms" in sink.items[-1].body["message"]


def test_duplicate_id_refusal_ends_the_newer_request_only():
    book = RequestBook("tcp://b", 1.0)
    first, second = Sink(), Sink()
    book.open(4, "query", {}, Policy.TRACKED, 60, first, 0.0)
    book.open(4, "info", {}, Policy.READ_ONLY, 60, second, 0.0)
    book.receive(reply("error", {"id": 4, "code": "duplicate_id"}), 0.1).run(lambda f: None)
    book.receive(reply("result", {"id": 4, "text": "x"}), 0.2).run(lambda f: None)
    assert [i.body.get("code") for i in second.items] == ["duplicate_id"]
    assert [i.type for i in first.items] == ["result"]


def test_refused_handshake_ends_everything_with_unauthorized_until_one_succeeds():
    book = RequestBook("tcp://b", 1.0)
    sink = Sink()
    book.open(1, "ping", {}, Policy.PLAIN, math.inf, sink, 0.0)
    book.handshake_failed("key refused").run(lambda f: None)
    book.open(2, "list", {}, Policy.READ_ONLY, 60, sink, 0.0)[1].run(lambda f: None)
    assert [i.body["code"] for i in sink.items] == ["unauthorized", "unauthorized"]
    book.handshake_succeeded()
    _, actions = book.open(3, "list", {}, Policy.READ_ONLY, 60, sink, 0.0)
    assert [t for t, _ in sent(actions)] == ["list"]
