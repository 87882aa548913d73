"""Every session call against a real broker, workers and the mock CLI."""

from __future__ import annotations

import json
import threading

import pytest
from cluster import Cluster, wait_for

import ccmesh
from ccmesh import Client, Delta, Result, SessionOptions


def test_query_returns_the_answer_and_where_it_ran(client: Client, name: str) -> None:
    ack = client.start(name)
    assert ack.session == name and ack.worker in ("w1", "w2") and ack.generation >= 1
    result = client.query(name, "hello")
    assert result.text == "turn 1: hello"
    assert result.session == name and result.worker == ack.worker
    assert result.session_id and result.output_tokens > 0 and result.pool == ""


def test_stream_yields_deltas_in_order_then_the_result(client: Client, name: str) -> None:
    client.start(name)
    items = list(client.stream(name, "/sleep 200"))
    deltas, final = items[:-1], items[-1]
    assert isinstance(final, Result) and all(isinstance(d, Delta) for d in deltas)
    # Ten deltas; a worker may merge some that arrive together into one.
    assert [d.seq for d in deltas] == list(range(len(deltas))) and 1 <= len(deltas) <= 10
    assert "".join(d.text for d in deltas) == final.text == "turn 1: /sleep 200"


def test_leaving_a_stream_early_cancels_the_turn(client: Client, name: str) -> None:
    client.start(name)
    for item in client.stream(name, "/sleep 60000"):
        assert isinstance(item, Delta)
        break
    # The turn would run a minute; cancelled, the session is free again at once.
    wait_for("the cancelled turn to end", lambda: client.info(name).queue_depth == 0)
    assert client.query(name, "next").text.startswith("turn 2")


def test_query_deadline_ends_with_timeout_and_the_partial_answer(
    client: Client, name: str
) -> None:
    client.start(name)
    with pytest.raises(ccmesh.TimeoutError) as caught:
        client.query(name, "/sleep 20000", timeout=1.0)
    assert caught.value.code == "timeout"
    assert isinstance(caught.value, TimeoutError)  # the builtin, too
    assert "turn 1: /sleep 20000".startswith(caught.value.partial)
    assert caught.value.partial  # a tenth of the answer comes every 2 s


def test_start_takes_typed_options_and_info_reports_them(client: Client, name: str) -> None:
    client.start(name, SessionOptions(system_prompt="be brief"), max_turns=3, env={"K": "v"})
    info = client.info(name)
    assert info.name == name and info.config["system_prompt"] == "be brief"
    assert info.config["max_turns"] == 3 and info.config["env"] == {"K": "v"}
    assert "be brief" in client.query(name, "/system").text
    with pytest.raises(TypeError):
        client.start(name + "x", sytem_prompt="typo")  # caught before anything is sent


def test_terminate_restart_transcript_list_count(client: Client, name: str) -> None:
    client.start(name)
    client.query(name, "remember me")
    assert client.restart(name, keep_history=True).session == name
    assert "remember me" in client.query(name, "/history").text
    assert client.restart(name).session == name  # a fresh conversation
    assert "remember me" not in client.query(name, "/history").text
    transcript = client.transcript(name)
    wait_for("the transcript", lambda: client.transcript(name).entries > 0)
    assert transcript.session == name
    assert name in [s.name for s in client.list()]
    count = client.count()
    assert count.count >= 1 and sum(count.states.values()) == count.count
    assert client.terminate(name).state == "stopped"
    wait_for("the name to go", lambda: name not in [s.name for s in client.list()])


def test_move_continues_the_conversation_on_the_other_worker(client: Client, name: str) -> None:
    ack = client.start(name)
    client.query(name, "before the move")
    target = "w2" if ack.worker == "w1" else "w1"
    moved = client.move(name, target)
    assert moved.worker == target and moved.generation > ack.generation
    result = client.query(name, "/history")
    assert result.worker == target and "before the move" in result.text


def test_status_ping_and_watch(client: Client, cluster: Cluster, name: str) -> None:
    status = client.status()
    assert sorted(w.id for w in status.workers) == ["w1", "w2"]
    assert status.version and not status.curve
    assert client.ping().version == status.version
    with client.watch(session=name) as feed:
        client.start(name)
        kinds = []
        for event in feed:
            assert event.fields.get("session", name) == name
            kinds.append(event.kind)
            if event.kind == "session_placed":
                break
    assert kinds[0] == "session_registered"


def test_errors_are_exceptions_with_code_message_and_partial(client: Client, name: str) -> None:
    with pytest.raises(ccmesh.NotFoundError) as caught:
        client.query(name, "x")
    assert caught.value.code == "not_found" and name in caught.value.message
    with pytest.raises(ccmesh.BadRequestError):
        client.start("-bad name")
    with pytest.raises(ccmesh.BadRequestError):
        client.start(name, permission_mode="nonsense")
    client.start(name)
    with pytest.raises(ccmesh.AlreadyExistsError):
        client.start(name)
    with pytest.raises(ccmesh.SessionCrashedError) as crashed:
        client.query(name, "/crash")
    assert crashed.value.partial == "partial before crash"
    assert isinstance(crashed.value, ccmesh.CcmeshError)


def test_full_queue_is_busy_and_a_reused_id_is_duplicate(client: Client, name: str) -> None:
    client.start(name)
    running = client.stream(name, "/sleep 60000")  # sent at once: 1 runs ...
    assert isinstance(next(running), Delta)
    queued = [client.stream(name, f"/sleep {i}") for i in (1, 2)]  # ... 2 wait
    with pytest.raises(ccmesh.BusyError):
        client.query(name, "one too many")
    with pytest.raises(ccmesh.DuplicateIdError):
        client.request("query", {"id": running.id, "session": name, "prompt": "again"})
    running.close()  # cancels it; the queued ones run
    assert [list(s)[-1].text for s in queued] == ["turn 2: /sleep 1", "turn 3: /sleep 2"]


def test_restart_cancels_the_running_query(client: Client, name: str) -> None:
    client.start(name)
    stream = client.stream(name, "/sleep 60000")
    assert isinstance(next(stream), Delta)
    client.restart(name)
    with pytest.raises(ccmesh.CancelledError) as caught:
        list(stream)
    assert caught.value.partial.startswith("t")


def test_one_client_serves_many_threads(client: Client, name: str) -> None:
    client.start(name + "a")
    client.start(name + "b")
    answers: dict = {}

    def ask(session: str) -> None:
        answers[session] = [client.query(session, f"q{i}").text for i in range(5)]

    threads = [threading.Thread(target=ask, args=(name + s,)) for s in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for s in "ab":
        assert answers[name + s] == [f"turn {i + 1}: q{i}" for i in range(5)]


def test_cli_prints_as_the_cpp_tool_does(cluster: Cluster, client: Client, name: str) -> None:
    import io

    from ccmesh.cli import main

    client.start(name)
    out, err = io.StringIO(), io.StringIO()
    assert main(["--broker", cluster.frontend, "query", name, "hi"], out, err) == 0
    assert out.getvalue() == "turn 1: hi\n"
    assert cluster.tool("query", name, "hi").stdout == "turn 2: hi\n"
    out = io.StringIO()
    assert main(["list", "--broker", cluster.frontend], out, err) == 0
    # The same columns; their widths follow the longest value, and other sessions of the
    # cluster may change state between the two listings.
    header = cluster.tool("list").stdout.splitlines()[0]
    assert out.getvalue().splitlines()[0].split() == header.split()
    assert name in out.getvalue()
    out = io.StringIO()
    assert main(["--json", "--broker", cluster.frontend, "status"], out, err) == 0
    assert json.loads(out.getvalue())["ok"] is True
    out, err = io.StringIO(), io.StringIO()
    code = main(["--broker", cluster.frontend, "query", name + "-missing", "x"], out, err)
    assert code == cluster.tool("query", name + "-missing", "x").returncode == 3
    assert err.getvalue().startswith("error: not_found: ")


def test_set_changes_the_model_between_turns_and_context_reports_usage(
    client: Client, name: str
) -> None:
    client.start(name)
    assert client.query(name, "/model").text == "mock-model"
    client.set(name, model="claude-next")
    assert client.query(name, "/model").text == "claude-next"
    assert client.info(name).config["model"] == "claude-next"
    usage = json.loads(client.context(name).usage)
    assert usage["maxTokens"] == 200000 and usage["model"] == "claude-next"
    with pytest.raises(ccmesh.BadRequestError):
        client.set(name)


def test_usage_adds_up_turns_and_a_spent_budget_refuses_queries(
    client: Client, name: str
) -> None:
    # Every answered turn of the mock CLI costs 0.01 USD.
    client.start(name, ccmesh.SessionOptions(budget_usd=0.02))
    for _ in range(2):
        assert client.query(name, "hello").cost_usd == pytest.approx(0.01)
    info = client.info(name)
    assert info.usage.turns == 2 and info.usage.cost_usd == pytest.approx(0.02)
    with pytest.raises(ccmesh.BudgetExhaustedError):
        client.query(name, "one more")
    budget = client.budget(name)
    assert budget.kind == "session" and budget.exhausted
    budget = client.budget(name, add_usd=0.01)
    assert budget.budget_usd == pytest.approx(0.03) and not budget.exhausted
    client.query(name, "now")
    rows = {row.name: row for row in client.usage().rows}
    assert rows[name].usage.turns == 3 and rows[name].spent_usd == pytest.approx(0.03)
    assert client.budget(name, reset=True).spent_usd == 0
    with pytest.raises(ccmesh.BadRequestError):
        client.usage(by="colour")
    with pytest.raises(ccmesh.NotFoundError):
        client.budget("no-such-" + name)


def test_fork_continues_the_source_conversation_under_its_own_id(
    client: Client, name: str
) -> None:
    client.start(name)
    assert client.query(name, "alpha").text == "turn 1: alpha"
    ack = client.fork(name, name + "-fork")
    assert ack.session == name + "-fork"
    assert client.query(name + "-fork", "beta").text == "turn 2: beta"
    assert client.query(name + "-fork", "/history").text == "alpha | beta"
    assert client.query(name, "/history").text == "alpha"
    assert client.info(name + "-fork").session_id != client.info(name).session_id
    with pytest.raises(ccmesh.NotFoundError):
        client.fork(name + "-nobody", name + "-other")
    info = client.pool_create(name + "-pool", 2, fork_of=name)
    for member in info.members:
        assert client.query(member.name, "/history").text == "alpha | /history"
