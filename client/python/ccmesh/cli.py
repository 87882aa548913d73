"""``python3 -m ccmesh COMMAND``: the C++ ``ccmesh`` tool's query, list, status, info,
count and ping, with its flags, output, JSON form and exit statuses.

Global options (``--broker``, ``--json``, ``--timeout MS``, ``--curve-server-key FILE``,
``--curve-secret FILE``) may come before or after the command; ``$CCMESH_BROKER``,
``$CCMESH_CURVE_SERVER_KEY`` and ``$CCMESH_CURVE_SECRET`` are their defaults. Errors go to
stderr as ``error: CODE: message``; exit status 2 usage, bad_request or duplicate_id, 3
not_found, 4 busy, 5 timeout, 1 any other error.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, TextIO

from . import types as t
from .client import DEFAULT_BROKER, Client
from .connection import load_curve_keys
from .errors import CcmeshError, exit_status

_DEFAULT_TIMEOUT_MS = 60000


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # type: ignore[override]
        raise _UsageError(message)


def _global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    # On the subcommands the defaults are SUPPRESS, so a value given before the command
    # is not overwritten by the subcommand's default.
    default = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    parser.add_argument("--broker", metavar="ENDPOINT", default=default(None))
    parser.add_argument("--json", action="store_true", default=default(False))
    parser.add_argument("--timeout", metavar="MS", type=int, default=default(None))
    parser.add_argument("--curve-server-key", metavar="FILE", default=default(None))
    parser.add_argument("--curve-secret", metavar="FILE", default=default(None))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python3 -m ccmesh",
        description="Talks to a ccmesh broker: runs prompts on named sessions, lists them.",
    )
    _global_options(parser, True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    query = commands.add_parser("query", help="run one prompt on a session and print the answer")
    query.add_argument("name", metavar="NAME")
    query.add_argument("prompt", metavar="PROMPT")
    query.add_argument("--stream", action="store_true", help="print the answer as it comes")
    info = commands.add_parser("info", help="show one session")
    info.add_argument("name", metavar="NAME")
    commands.add_parser("list", help="list every session")
    commands.add_parser("count", help="count sessions, per state")
    commands.add_parser("status", help="show the broker's workers and totals")
    commands.add_parser("ping", help="check that the broker answers")
    for sub in commands.choices.values():
        _global_options(sub, False)
    return parser


# ---- output, as the C++ tool prints it --------------------------------------------------


def _table(out: TextIO, header: List[str], rows: List[List[str]]) -> None:
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    for row in [header] + rows:
        cells = [c + " " * (widths[i] - len(c) + 2) for i, c in enumerate(row[:-1])]
        out.write("".join(cells) + row[-1] + "\n")


def _dash(text: str) -> str:
    return text or "-"


def _iso_time(ms: int) -> str:
    if ms == 0:
        return "-"
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def print_list(out: TextIO, sessions: Sequence[t.SessionInfo]) -> None:
    rows = [
        [s.name, s.state, _dash(s.worker), str(s.generation), str(s.queue_depth),
         str(s.pid) if s.pid > 0 else "-"]
        for s in sessions
    ]
    _table(out, ["NAME", "STATE", "WORKER", "GEN", "QUEUE", "PID"], rows)


def print_info(out: TextIO, s: t.SessionInfo) -> None:
    whole = ", whole" if s.transcript_complete else ", not whole"
    out.write(
        f"name: {s.name}\nworker: {s.worker}\ngeneration: {s.generation}\nstate: {s.state}\n"
        f"pid: {s.pid}\nsession_id: {s.session_id}\nrestarts: {s.restarts}\n"
        f"queue_depth: {s.queue_depth}\nturns: {s.turns}\nlast_error: {s.last_error}\n"
        f"last_used_ms: {s.last_used_ms}\nrss_kb: {s.rss_kb}\nrecycles: {s.recycles}\n"
        f"transcript: {s.transcript_entries} entries, {s.transcript_bytes} bytes, last entry "
        f"{_iso_time(s.transcript_last_ms)}{whole}\ncut: {_dash(s.cut)}\n"
        f"config: {json.dumps(s.config, separators=(',', ':'), sort_keys=True)}\n"
        f"creator: {_dash(s.creator)}\n"
    )


def print_status(out: TextIO, s: t.Status) -> None:
    rows = []
    for w in s.workers:
        labels = ",".join(f"{k}={v}" for k, v in sorted(w.labels.items()))
        live = f"{w.live}/{w.max_live if w.max_live else '-'}"
        rows.append([w.id, str(w.capacity), str(w.sessions), live, str(w.hibernated),
                     str(w.heartbeat_age_ms), _dash(labels)])
    _table(out, ["WORKER", "CAPACITY", "SESSIONS", "LIVE", "HIBERNATED", "HEARTBEAT_AGE_MS",
                 "LABELS"], rows)
    auth = ("CURVE" if s.curve else "NONE (--insecure: anyone who reaches the ports may use "
            "them)" if s.insecure else "none (loopback only)")
    out.write(
        f"\nbroker {s.version}, up {s.uptime_ms // 1000} s\n"
        f"workers: {len(s.workers)}\n"
        f"sessions: {s.sessions} ({s.pending_sessions} waiting for a worker)\n"
        f"requests in flight: {s.requests_in_flight}\n"
        f"malformed messages: {s.malformed_messages}\n"
        f"stale messages dropped: {s.stale_messages}\n"
        f"workers lost: {s.workers_lost}\n"
        f"authentication: {auth}\n"
        f"refused: {s.refused_handshakes} handshake(s), {s.unauthorized} message(s), "
        f"{s.refused_worker_ids} worker message(s) with another's id\n"
        f"allow-list reloads: {s.reloads} ({s.failed_reloads} refused)\n"
        f"transcripts: {s.transcript_bytes} bytes in memory, {s.transcript_dropped_entries} "
        f"entries dropped (per-session bound), {s.transcript_evictions} evicted (total bound), "
        f"{s.transcript_rejected} rejected, {s.transcript_write_errors} write errors, "
        f"{s.transcript_duplicates} duplicates dropped, {s.transcript_gaps} gaps, "
        f"{s.transcript_damaged_files} damaged files\n"
    )


def _success(fields: Dict[str, Any]) -> str:
    return json.dumps({"ok": True, **fields}, separators=(",", ":"))


def _report(out: TextIO, err: TextIO, error: CcmeshError, as_json: bool, shown: bool) -> int:
    if as_json:
        body = {"code": error.code, "message": error.message, "partial": error.partial}
        out.write(json.dumps({"ok": False, "error": body}, separators=(",", ":")) + "\n")
    else:
        err.write(f"error: {error.code}: {error.message}\n")
        if error.partial and not shown:
            err.write(f"partial answer:\n{error.partial}\n")
    out.flush()
    return exit_status(error.code)


# ---- running ----------------------------------------------------------------------------


def _run_query(client: Client, args: argparse.Namespace, timeout: Optional[float],
               out: TextIO, err: TextIO) -> int:
    streamed = False
    try:
        if args.stream and not args.json:
            for item in client.stream(args.name, args.prompt, timeout):
                if isinstance(item, t.Delta):
                    if item.text:
                        out.write(item.text)
                        out.flush()
                        streamed = True
                else:
                    result = item
        else:
            result = client.query(args.name, args.prompt, timeout)
    except CcmeshError as e:
        if streamed:
            out.write("\n")
        return _report(out, err, e, args.json, streamed)
    if args.json:
        out.write(_success(dataclasses.asdict(result)) + "\n")
    else:
        out.write("\n" if streamed else result.text + "\n")
    return 0


def main(argv: Optional[Sequence[str]] = None, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    """Runs one command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv
    try:
        args = _parser().parse_args(argv)
        if args.command is None:
            raise _UsageError("no command given (see python3 -m ccmesh --help)")
        if args.timeout is not None and args.timeout <= 0:
            raise _UsageError("--timeout must be a positive number of milliseconds")
        server_key = args.curve_server_key or os.environ.get("CCMESH_CURVE_SERVER_KEY")
        secret = args.curve_secret or os.environ.get("CCMESH_CURVE_SECRET")
        if bool(server_key) != bool(secret):
            raise _UsageError("--curve-server-key and --curve-secret go together")
        curve = load_curve_keys(server_key, secret) if server_key and secret else None
    except (_UsageError, ValueError, OSError) as e:
        return _report(out, err, CcmeshError("bad_request", str(e)), as_json, False)

    broker = args.broker or os.environ.get("CCMESH_BROKER") or DEFAULT_BROKER
    timeout_ms = args.timeout or _DEFAULT_TIMEOUT_MS
    # As the C++ tool: only an explicit --timeout travels as the query's deadline.
    query_timeout = args.timeout / 1000 if args.timeout else None
    try:
        with Client(broker, timeout=timeout_ms / 1000, curve=curve) as client:
            if args.command == "query":
                return _run_query(client, args, query_timeout, out, err)
            if args.command == "list":
                sessions = client.list()
                if args.json:
                    out.write(_success({"sessions": [dataclasses.asdict(s) for s in sessions]}))
                    out.write("\n")
                else:
                    print_list(out, sessions)
                return 0
            value: Any = {
                "info": lambda: client.info(args.name),
                "count": client.count,
                "status": client.status,
                "ping": client.ping,
            }[args.command]()
            if args.json:
                out.write(_success(dataclasses.asdict(value)) + "\n")
            elif args.command == "info":
                print_info(out, value)
            elif args.command == "count":
                out.write(f"{value.count}\n")
            elif args.command == "status":
                print_status(out, value)
            else:
                out.write(f"pong from broker {value.version} (up {value.uptime_ms // 1000} s)\n")
            return 0
    except CcmeshError as e:
        return _report(out, err, e, args.json, False)
    except ValueError as e:
        return _report(out, err, CcmeshError("bad_request", str(e)), args.json, False)
    except KeyboardInterrupt:
        return 130
