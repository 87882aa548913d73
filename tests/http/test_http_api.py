"""The broker's HTTP API through a real HTTP client: queries as JSON and as server-sent
events, session management, errors as HTTP statuses, a client gone cancels, token roles,
pools, CURVE. Real broker and workers with the mock CLI, on free loopback ports."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Iterator, List

import pytest
from cluster import Cluster, wait_for
from http_client import Http

import ccmesh


def metric(http: Http, name: str, labels: str) -> float:
    """One sample of the broker's /metrics (0 when absent)."""
    text = http.request("GET", "/metrics").body
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def start(http: Http, name: str, **options: object) -> None:
    answer = http.request("POST", "/api/sessions", {"name": name, "options": options})
    assert answer.status == 201, answer.body
    assert answer.body["session"] == name


def test_start_query_info_terminate(http: Http, name: str) -> None:
    start(http, name, model="claude-test", allowed_tools=["Read", "Grep"], env={"A": "1"})
    answer = http.request("POST", Http.session_path(name, "/query"), {"prompt": "hello"})
    assert answer.status == 200, answer.body
    assert answer.body["session"] == name
    assert answer.body["text"].endswith("hello")
    assert answer.body["worker"] in ("w1", "w2")
    info = http.request("GET", Http.session_path(name))
    assert info.status == 200
    assert info.body["name"] == name and info.body["turns"] == 1
    assert info.body["config"]["model"] == "claude-test"
    assert info.body["config"]["allowed_tools"] == ["Read", "Grep"]
    assert "transcript" not in info.body
    gone = http.request("DELETE", Http.session_path(name))
    assert gone.status == 200, gone.body
    missing = http.request("GET", Http.session_path(name))
    assert missing.status == 404
    assert missing.body["error"] == "not_found"


def test_fork_of_continues_a_sessions_conversation(http: Http, name: str) -> None:
    start(http, name)
    first = http.request("POST", Http.session_path(name, "/query"), {"prompt": "alpha"})
    assert first.status == 200, first.body
    forked = http.request("POST", "/api/sessions", {"name": name + "-fork", "fork_of": name})
    assert forked.status == 201, forked.body
    history = http.request("POST", Http.session_path(name + "-fork", "/query"),
                           {"prompt": "/history"})
    assert history.status == 200 and history.body["text"] == "alpha", history.body
    assert history.body["session_id"] != first.body["session_id"]
    unknown = http.request("POST", "/api/sessions", {"name": name + "-x", "fork_of": name + "-no"})
    assert unknown.status == 404 and unknown.body["error"] == "not_found", unknown.body


def test_stream_hands_deltas_in_order_then_the_result(http: Http, name: str) -> None:
    start(http, name)
    stream = http.stream(Http.session_path(name, "/query"), {"prompt": "/deltas 30 7"})
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = list(stream.events())
    finally:
        stream.close()
    deltas = [e for e in events if e.kind == "delta"]
    # 30 deltas from the CLI; the worker merges those that arrive together.
    assert 1 <= len(deltas) <= 30
    seqs = [d.data["seq"] for d in deltas]
    assert seqs == list(range(len(deltas)))
    assert events[-1].kind == "result"
    assert "".join(d.data["text"] for d in deltas) == events[-1].data["text"]
    assert [e.kind for e in events].count("result") == 1


def test_tool_questions_are_denied_for_http_callers(http: Http, name: str) -> None:
    start(http, name, permission_handler="client", json_schema={"type": "object"})
    answer = http.request("POST", Http.session_path(name, "/query"), {"prompt": "/tool Bash ls"})
    assert answer.status == 200, answer.body
    assert answer.body["text"] == "tool Bash denied: this client answers no tool questions"
    stream = http.stream(Http.session_path(name, "/query"), {"prompt": "/tool Edit {}"})
    try:
        events = list(stream.events())
    finally:
        stream.close()
    assert [e.kind for e in events][-1] == "result", events
    text = events[-1].data["text"]
    assert text == "tool Edit denied: an HTTP caller cannot answer tool questions"
    # json_schema: the structured value is a JSON value of the result
    assert events[-1].data["structured"] == {"answer": text}


def test_errors_map_to_http_statuses(http: Http, name: str) -> None:
    unknown = http.request("POST", Http.session_path("no-such-session", "/query"), {"prompt": "x"})
    assert unknown.status == 404 and unknown.body["error"] == "not_found"
    streamed = http.stream(Http.session_path("no-such-session", "/query"), {"prompt": "x"})
    assert streamed.status == 404  # an error before the first event gets its own status
    streamed.close()
    start(http, name)
    path = Http.session_path(name, "/query")
    for body, raw in (({}, None), ({"prompt": 5}, None), ({"prompt": "x", "timeout_ms": -1}, None),
                      (None, b"{not json")):
        bad = http.request("POST", path, body, raw=raw)
        assert bad.status == 400, (body, raw, bad.body)
        assert bad.body["error"] == "bad_request"
    bad_option = http.request("POST", "/api/sessions",
                              {"name": name + "-x", "options": {"no_such_option": "1"}})
    assert bad_option.status == 400 and "no_such_option" in bad_option.body["message"]
    twice = http.request("POST", "/api/sessions", {"name": name})
    assert twice.status == 409 and twice.body["error"] == "already_exists"
    slow = http.request("POST", path, {"prompt": "/sleep 5000", "timeout_ms": 300})
    assert slow.status == 504 and slow.body["error"] == "timeout"
    assert http.request("GET", "/api/no-such-route").status == 404


def test_a_full_queue_is_429_with_retry_after(http: Http, name: str) -> None:
    start(http, name)
    path = Http.session_path(name, "/query")
    answers: List[int] = []

    def ask() -> None:
        answers.append(http.request("POST", path, {"prompt": "/sleep 1500"}).status)

    # One running and two queued (the workers' --queue-depth 2) fill the session.
    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    # queue_depth counts the running prompt too.
    wait_for("three queries held by the session",
             lambda: http.request("GET", Http.session_path(name)).body["queue_depth"] >= 3)
    busy = http.request("POST", path, {"prompt": "one too many"})
    for thread in threads:
        thread.join()
    assert busy.status == 429, busy.body
    assert busy.body["error"] == "busy"
    assert busy.headers["retry-after"] == "1"
    assert answers == [200, 200, 200]


def test_a_client_that_goes_away_cancels_its_query(http: Http, name: str) -> None:
    start(http, name)
    cancelled = metric(http, "ccmesh_queries_total", 'outcome="cancelled"')
    stream = http.stream(Http.session_path(name, "/query"), {"prompt": "/sleep 600000"})
    assert stream.status == 200
    stream.close()
    wait_for("the query cancelled",
             lambda: metric(http, "ccmesh_queries_total", 'outcome="cancelled"') > cancelled)
    # The session is free again: the next prompt is answered within this client's timeout
    # (30 s), not after the ten-minute turn.
    answer = http.request("POST", Http.session_path(name, "/query"), {"prompt": "after"})
    assert answer.status == 200 and answer.body["text"].endswith("after")


def test_pool_queries_and_member_names_with_a_slash(cluster: Cluster, http: Http,
                                                     name: str) -> None:
    with cluster.client() as client:
        client.pool_create(name, 2)
    answer = http.request("POST", Http.pool_path(name, "/query"), {"prompt": "fan"})
    assert answer.status == 200, answer.body
    assert answer.body["pool"] == name
    member = answer.body["session"]
    assert member.startswith(name + "/")
    # A member's name holds a slash: encoded or not, the path names it.
    for path in (Http.session_path(member), "/api/sessions/" + member):
        info = http.request("GET", path)
        assert info.status == 200 and info.body["name"] == member
    stream = http.stream(Http.pool_path(name, "/query"), {"prompt": "/deltas 3 4"})
    events = list(stream.events())
    stream.close()
    kinds = [e.kind for e in events]
    assert kinds[-1] == "result" and 1 <= len(kinds) - 1 <= 3
    assert set(kinds[:-1]) == {"delta"}
    assert "".join(e.data["text"] for e in events[:-1]) == events[-1].data["text"]
    assert events[-1].data["pool"] == name
    assert http.request("POST", Http.pool_path("no-pool", "/query"), {"prompt": "x"}).status == 404


@pytest.fixture
def token_cluster(tmp_path: Path) -> Iterator[Cluster]:
    (tmp_path / "tokens").write_text(
        "# who may use the HTTP API\n"
        "admin-token-0123456789 admin ops\n"
        "query-token-0123456789 query webapp\n"
    )
    cluster = Cluster(["--http-token-file", str(tmp_path / "tokens")])
    try:
        cluster.start_worker("w1")
        yield cluster
    finally:
        cluster.stop()


def test_token_roles(token_cluster: Cluster, name: str) -> None:
    base = token_cluster.http
    nobody, wrong = Http(base), Http(base, "not-a-token-at-all")
    admin, query = Http(base, "admin-token-0123456789"), Http(base, "query-token-0123456789")
    for who in (nobody, wrong):
        refused = who.request("POST", "/api/sessions", {"name": name})
        assert refused.status == 401 and refused.headers["www-authenticate"] == "Bearer"
    denied = query.request("POST", "/api/sessions", {"name": name})
    assert denied.status == 403 and denied.body["error"] == "unauthorized"
    assert "webapp" in denied.body["message"] and "admin" in denied.body["message"]
    assert admin.request("POST", "/api/sessions", {"name": name}).status == 201
    asked = query.request("POST", Http.session_path(name, "/query"), {"prompt": "hi"})
    assert asked.status == 200 and asked.body["text"].endswith("hi")
    assert query.request("GET", Http.session_path(name)).status == 200
    assert query.request("DELETE", Http.session_path(name)).status == 403
    assert admin.request("DELETE", Http.session_path(name)).status == 200


def curve_cluster(tmp_path: Path, broker_args: List[str]) -> Cluster:
    """A CURVE broker (client alice with role query) and worker w1."""
    from test_curve import write_keys

    publics = {n: write_keys(tmp_path, n)[0] for n in ("broker", "alice", "w1")}
    (tmp_path / "clients.allow").write_text(f"{publics['alice']} query alice\n")
    (tmp_path / "workers.allow").write_text(f"{publics['w1']} w1\n")
    cluster = Cluster(["--curve-secret", str(tmp_path / "broker.key"),
                       "--clients-allow", str(tmp_path / "clients.allow"),
                       "--workers-allow", str(tmp_path / "workers.allow")] + broker_args)
    cluster.curve = ccmesh.load_curve_keys(str(tmp_path / "broker.pub"),
                                           str(tmp_path / "alice.key"))
    cluster.start_worker("w1", ["--curve-server-key", str(tmp_path / "broker.pub"),
                                "--curve-secret", str(tmp_path / "w1.key")])
    return cluster


def test_under_curve_the_api_needs_tokens(tmp_path: Path, name: str) -> None:
    cluster = curve_cluster(tmp_path, [])
    try:
        http = Http(cluster.http)
        refused = http.request("POST", "/api/sessions", {"name": name})
        assert refused.status == 403 and "--http-token-file" in refused.body["message"]
        assert http.request("GET", Http.session_path(name)).status == 403
        assert http.request("GET", "/api/status").status == 200  # monitoring stays
        # The CURVE client of role query still may not start anything itself.
        with cluster.client() as alice:
            with pytest.raises(ccmesh.UnauthorizedError):
                alice.start(name)
    finally:
        cluster.stop()


def test_the_api_works_under_curve_with_tokens(tmp_path: Path, name: str) -> None:
    (tmp_path / "tokens").write_text("admin-token-0123456789 admin ops\n")
    cluster = curve_cluster(tmp_path, ["--http-token-file", str(tmp_path / "tokens")])
    try:
        http = Http(cluster.http, "admin-token-0123456789")
        start(http, name)
        answer = http.request("POST", Http.session_path(name, "/query"), {"prompt": "sealed"})
        assert answer.status == 200 and answer.body["text"].endswith("sealed")
        # The session is the HTTP API's; a CURVE client of role query still reads it.
        with cluster.client() as alice:
            assert alice.info(name).creator == "http"
    finally:
        cluster.stop()


def test_no_client_key_may_take_the_http_api_name(tmp_path: Path) -> None:
    from test_curve import write_keys

    public = write_keys(tmp_path, "broker")[0]
    (tmp_path / "clients.allow").write_text(f"{public} admin http\n")
    (tmp_path / "workers.allow").write_text("")
    import subprocess

    from cluster import binary

    done = subprocess.run(
        [binary("ccmesh-broker", "CCMESH_BROKER_BIN"), "--frontend", "tcp://127.0.0.1:*",
         "--backend", "tcp://127.0.0.1:*", "--http", "127.0.0.1:0",
         "--curve-secret", str(tmp_path / "broker.key"),
         "--clients-allow", str(tmp_path / "clients.allow"),
         "--workers-allow", str(tmp_path / "workers.allow")],
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "HTTP API" in done.stderr


def test_a_hundred_clients_streaming_at_once() -> None:
    """A burst of connections (a web application's pool opening) all get their streams."""
    cluster = Cluster()
    try:
        cluster.start_worker("w1", ["--capacity", "128"])
        names = [f"burst-{i}" for i in range(100)]
        with cluster.client() as client:
            for name in names:
                client.start(name)
        http = Http(cluster.http)
        outcomes: List[str] = []

        def stream(name: str) -> None:
            try:
                answer = http.stream(Http.session_path(name, "/query"), {"prompt": "/deltas 20 5"})
                events = list(answer.events())
                answer.close()
                text = "".join(e.data["text"] for e in events if e.kind == "delta")
                outcomes.append(f"{answer.status} {len(text)} {events[-1].kind}")
            except OSError as error:
                outcomes.append(repr(error))

        threads = [threading.Thread(target=stream, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == ["200 100 result"] * 100  # 20 deltas of 5 bytes each
    finally:
        cluster.stop()


def test_a_stopping_broker_ends_its_streams_with_unavailable(name: str) -> None:
    import signal

    cluster = Cluster()
    try:
        cluster.start_worker("w1")
        http = Http(cluster.http)
        start(http, name)
        stream = http.stream(Http.session_path(name, "/query"), {"prompt": "/sleep 600000"})
        assert stream.status == 200
        assert cluster.broker is not None
        cluster.broker.kill(signal.SIGTERM)
        events = list(stream.events())
        stream.close()
        assert events[-1].kind == "error" and events[-1].data["error"] == "unavailable"
        assert cluster.broker.popen.wait(timeout=30) == 0
    finally:
        cluster.stop()
