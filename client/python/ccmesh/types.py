"""What requests take and replies carry, as typed values (docs/PROTOCOL.md "result").

Every reply shape is a frozen dataclass built by :func:`from_wire`, which keeps the fields
it knows and ignores the others (the protocol only ever adds fields), and gives missing
fields their default, as the protocol says.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Type, TypeVar

T = TypeVar("T")


def from_wire(cls: Type[T], body: Mapping[str, Any]) -> T:
    """Builds dataclass ``cls`` from a msgpack map: known keys only, nested shapes too."""
    hints = typing.get_type_hints(cls)
    values: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in body or not f.init:
            continue
        values[f.name] = _convert(hints[f.name], body[f.name])
    return cls(**values)


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
        return from_wire(hint, value)
    if origin in (list, List) and isinstance(value, (list, tuple)):
        (item,) = typing.get_args(hint)
        return [_convert(item, v) for v in value]
    if origin in (dict, Dict) and isinstance(value, Mapping):
        return dict(value)
    if hint is float and isinstance(value, int):
        return float(value)  # cost_usd may arrive as an integer
    return value


@dataclass(frozen=True)
class SessionOptions:
    """A session's options (``start``, ``pool_create``; ``config`` of :class:`SessionInfo`).

    Only the options given (not ``None``) travel; the others take the worker's defaults.
    The broker refuses keys it does not know, so a typo fails at once (here as a
    ``TypeError``, before anything is sent).
    """

    system_prompt: Optional[str] = None  #: --system-prompt
    append_system_prompt: Optional[str] = None  #: --append-system-prompt
    model: Optional[str] = None  #: --model
    max_turns: Optional[int] = None  #: --max-turns (0: unset)
    allowed_tools: Optional[List[str]] = None  #: --allowedTools
    disallowed_tools: Optional[List[str]] = None  #: --disallowedTools
    add_dir: Optional[List[str]] = None  #: --add-dir, absolute paths
    permission_mode: Optional[str] = None  #: default, acceptEdits, plan, dontAsk, ...
    cwd: Optional[str] = None  #: the CLI's working directory (absolute, on the worker)
    env: Optional[Dict[str, str]] = None  #: extra environment of the CLI
    query_timeout_ms: Optional[int] = None  #: default deadline of a query (0: worker's)
    resume: Optional[str] = None  #: a session id to resume at first start
    max_restarts: Optional[int] = None  #: restart intensity (default 5) ...
    restart_window_ms: Optional[int] = None  #: ... within this window, else FAILED
    pool: Optional[str] = None  #: set by the broker on members a pool creates
    pool_strategy: Optional[str] = None  #: set by the broker with ``pool``
    require: Optional[Dict[str, str]] = None  #: worker labels a host must have
    start: Optional[str] = None  #: "eager" (default) or "on_demand"
    idle_timeout_ms: Optional[int] = None  #: idle this long -> hibernated (0: worker's)
    max_rss_mb: Optional[int] = None  #: a CLI above this is recycled between turns
    #: who answers the CLI's tool questions: "deny" (default), "client" or "policy"
    permission_handler: Optional[str] = None
    #: "allow:RULE" / "deny:RULE" entries the worker applies first (client, policy)
    permission_rules: Optional[List[str]] = None
    #: handler "client": a question unanswered this long is denied (0: 60000)
    permission_timeout_ms: Optional[int] = None
    max_budget_usd: Optional[float] = None  #: the CLI stops spending past this (budget_exhausted)
    fallback_model: Optional[str] = None  #: models to fall back to, comma-separated
    effort: Optional[str] = None  #: low, medium, high, xhigh or max
    settings: Optional[str] = None  #: a JSON object, or an absolute path on the worker
    setting_sources: Optional[List[str]] = None  #: user, project, local
    agents: Optional[str] = None  #: a JSON object of custom agents
    json_schema: Optional[str] = None  #: structured output's schema (Result.structured)
    mcp_config: Optional[str] = None  #: {"mcpServers": {...}} as JSON, or a path on the worker
    strict_mcp_config: Optional[bool] = None  #: only mcp_config's servers
    #: the cluster's budget: once its turns cost this much, queries get BudgetExhaustedError
    budget_usd: Optional[float] = None
    #: ``pool_create``: the pool's budget, its members' costs counted together
    pool_budget_usd: Optional[float] = None

    def to_wire(self) -> Dict[str, Any]:
        """The ``options`` map: the options that were given."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }

    @classmethod
    def of(cls, options: Optional["SessionOptions"], **kwargs: Any) -> "SessionOptions":
        """``options`` with ``kwargs`` applied on top (``TypeError`` for an unknown key)."""
        base = options if options is not None else cls()
        return dataclasses.replace(base, **kwargs) if kwargs else base


@dataclass(frozen=True)
class PermissionRequest:
    """A tool question of the session running a query (docs/PROTOCOL.md "Tool approval")."""

    id: int = 0  #: the query it belongs to
    session: str = ""  #: the session whose CLI asks (a pool query: the member)
    request: str = ""  #: the question's id
    tool_name: str = ""  #: e.g. Bash, Edit, mcp__server__tool
    input: str = "{}"  #: the tool's input, a JSON object as text
    tool_use_id: str = ""  #: the model's tool_use block
    suggestions: str = "[]"  #: the CLI's permission suggestions, a JSON array as text
    reason: str = ""  #: why the CLI asks, if it says
    timeout_ms: int = 0  #: denied when no answer came within this


@dataclass(frozen=True)
class PermissionAnswer:
    """A caller's answer to a :class:`PermissionRequest`."""

    allow: bool = False
    updated_input: str = ""  #: allow: the input to run the tool with (JSON object text)
    message: str = ""  #: deny: why; the model reads it

    @staticmethod
    def allowed(updated_input: str = "") -> "PermissionAnswer":
        return PermissionAnswer(True, updated_input, "")

    @staticmethod
    def denied(message: str) -> "PermissionAnswer":
        return PermissionAnswer(False, "", message)


#: decides a tool question; runs on the client's I/O thread (or event loop): return quickly
PermissionHandler = Callable[[PermissionRequest], PermissionAnswer]


@dataclass(frozen=True)
class Delta:
    """A piece of a streamed answer; the deltas of a query, joined, equal its text."""

    seq: int  #: 0, 1, 2, ... per request
    text: str  #: the piece of text
    kind: str = "delta"  #: the event kind (only "delta" is passed on)


@dataclass(frozen=True)
class Result:
    """The answer of a ``query`` or ``pool_query``."""

    text: str = ""  #: the whole answer
    session: str = ""  #: the session that answered (a pool's member for a pool query)
    session_id: str = ""  #: the CLI's conversation id
    worker: str = ""  #: the worker that ran the turn
    duration_ms: int = 0  #: how long the turn took
    cost_usd: float = 0.0  #: what the CLI reported the turn cost
    input_tokens: int = 0
    output_tokens: int = 0
    pool: str = ""  #: the pool, for a pool query; else empty
    structured: str = ""  #: with the session's json_schema: the answer as JSON text


@dataclass(frozen=True)
class Ack:
    """The answer of start, terminate, restart and move."""

    session: str = ""
    worker: str = ""  #: where it is placed; empty while no worker is connected
    generation: int = 0  #: its placement generation
    state: str = ""  #: its state after the request


@dataclass(frozen=True)
class Usage:
    """What turns used: a session's whole life, or a pool's, worker's or model's turns."""

    cost_usd: float = 0.0  #: what they cost, as the CLIs reported it
    input_tokens: int = 0
    output_tokens: int = 0
    turns: int = 0
    counted_from_usd: float = 0.0  #: a session's budget counts the cost above this

    @property
    def spent_usd(self) -> float:
        """The cost a session's budget counts."""
        return max(0.0, self.cost_usd - self.counted_from_usd)


@dataclass(frozen=True)
class UsageRow:
    """One row of ``usage``: a session, pool, worker or model."""

    name: str = ""
    usage: Usage = field(default_factory=Usage)
    sessions: int = 0
    budget_usd: float = 0.0  #: sessions and pools: the budget (0: none)
    spent_usd: float = 0.0  #: sessions and pools: what the budget counts


@dataclass(frozen=True)
class UsageReport:
    """The answer of ``usage``."""

    by: str = ""
    rows: List[UsageRow] = field(default_factory=list)
    total: Usage = field(default_factory=Usage)
    uptime_ms: int = 0


@dataclass(frozen=True)
class Budget:
    """The answer of ``budget``: a session's or pool's budget after the request."""

    name: str = ""
    kind: str = ""  #: session or pool
    budget_usd: float = 0.0  #: 0: none
    spent_usd: float = 0.0
    left_usd: float = 0.0
    exhausted: bool = False


@dataclass(frozen=True)
class SessionInfo:
    """One session as the broker knows it (``info``, ``list``)."""

    name: str = ""
    worker: str = ""
    generation: int = 0
    state: str = ""  #: pending, starting, idle, busy, restarting, stopped, failed, ...
    pid: int = 0  #: the CLI's pid on its worker (0: none)
    session_id: str = ""
    restarts: int = 0
    queue_depth: int = 0  #: prompts accepted and not finished, the running one included
    turns: int = 0
    last_error: str = ""
    config: Dict[str, Any] = field(default_factory=dict)  #: the session options map
    creator: str = ""  #: allow-list name of the key that started it (CURVE)
    recycles: int = 0
    rss_kb: int = 0
    last_used_ms: int = 0
    transcript_bytes: int = 0
    transcript_entries: int = 0
    transcript_last_ms: int = 0
    transcript_complete: bool = True
    cut: str = ""  #: non-empty: the conversation was cut (queries: conversation_incomplete)
    cost_usd: float = 0.0  #: what its turns cost, its whole life
    usage: Usage = field(default_factory=Usage)  #: what its turns used, its whole life


@dataclass(frozen=True)
class ContextUsage:
    """How full a session's context is, as its CLI reports it (``usage``: JSON text with
    totalTokens, maxTokens, percentage, ...)."""

    session: str = ""
    usage: str = "{}"


@dataclass(frozen=True)
class Transcript:
    """The transcript the broker keeps for a session."""

    session: str = ""
    session_id: str = ""
    jsonl: str = ""  #: the entries, one JSON object a line, oldest first
    entries: int = 0
    bytes: int = 0
    dropped_entries: int = 0
    last_entry_ms: int = 0
    complete: bool = True
    cut: str = ""


@dataclass(frozen=True)
class Count:
    """The answer of ``count``."""

    count: int = 0
    states: Dict[str, int] = field(default_factory=dict)  #: state -> sessions


@dataclass(frozen=True)
class WorkerInfo:
    """One worker as the broker knows it."""

    id: str = ""
    capacity: int = 0
    sessions: int = 0
    labels: Dict[str, str] = field(default_factory=dict)
    heartbeat_age_ms: int = 0
    max_live: int = 0
    live: int = 0
    hibernated: int = 0
    usage: Usage = field(default_factory=Usage)  #: its turns since the broker started


@dataclass(frozen=True)
class Status:
    """The answer of ``status``: the broker's workers and counters."""

    version: str = ""
    uptime_ms: int = 0
    workers: List[WorkerInfo] = field(default_factory=list)
    sessions: int = 0
    pending_sessions: int = 0
    requests_in_flight: int = 0
    malformed_messages: int = 0
    stale_messages: int = 0
    workers_lost: int = 0
    curve: bool = False
    insecure: bool = False
    refused_handshakes: int = 0
    unauthorized: int = 0
    refused_worker_ids: int = 0
    reloads: int = 0
    failed_reloads: int = 0
    transcript_bytes: int = 0
    transcript_dropped_entries: int = 0
    transcript_evictions: int = 0
    transcript_rejected: int = 0
    transcript_write_errors: int = 0
    transcript_duplicates: int = 0
    transcript_gaps: int = 0
    transcript_damaged_files: int = 0
    usage: Usage = field(default_factory=Usage)  #: every session's, added up
    budget_exhausted: int = 0  #: queries the broker refused budget_exhausted


@dataclass(frozen=True)
class Pong:
    """The answer of ``ping``."""

    version: str = ""
    uptime_ms: int = 0
    unknown: List[int] = field(default_factory=list)


@dataclass(frozen=True)
class FeedEvent:
    """One of the broker's events, as a ``watch`` streams them."""

    seq: int = 0  #: the broker's event number (gaps: events a filter left out)
    kind: str = ""  #: session_placed, worker_lost, query_finished, ...
    text: str = ""  #: one line for people
    time_ms: int = 0  #: when, ms since the Unix epoch
    fields: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PoolMember:
    """One member of a pool."""

    name: str = ""
    state: str = ""  #: the session's state; "missing" when no such session is registered
    worker: str = ""
    turns: int = 0
    served: int = 0  #: pool queries it answered
    queue_depth: int = 0
    checked_out: bool = False
    lease_id: int = 0
    lease_left_ms: int = 0


@dataclass(frozen=True)
class PoolInfo:
    """A pool: its members in rotation order and its counters."""

    name: str = ""
    strategy: str = ""
    owned: bool = False  #: the pool created its members
    size: int = 0
    members: List[PoolMember] = field(default_factory=list)
    checked_out: int = 0
    waiting_checkouts: int = 0
    reclaims: int = 0
    exhausted: int = 0
    usage: Usage = field(default_factory=Usage)  #: its members' usage added up
    budget_usd: float = 0.0  #: its budget (0: none)
    spent_usd: float = 0.0  #: what its budget counts


@dataclass(frozen=True)
class CheckoutResult:
    """A member reserved by ``pool_checkout``: query it by ``member``."""

    pool: str = ""
    member: str = ""
    worker: str = ""
    lease_id: int = 0
    lease_ms: int = 0


@dataclass(frozen=True)
class CheckinResult:
    """A member given back."""

    pool: str = ""
    member: str = ""
