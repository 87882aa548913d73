"""A real broker and real workers with the mock CLI, on free loopback ports.

The binaries come from $CCMESH_BIN_DIR (ctest sets it to the build being tested), or from
the variables naming each one ($CCMESH_BROKER_BIN, $CCMESH_WORKER_BIN, $CCMESH_MOCK_CLI,
$CCMESH_TOOL). Every process runs in its own process group and is killed by group, then
reaped, when the cluster stops; waits poll an observable condition under a deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, TypeVar

from ccmesh import Client, CurveKeys

#: the one generous deadline for anything a test waits for (the machine may be busy)
EVENT_DEADLINE = 30.0

T = TypeVar("T")


def binary(name: str, variable: str) -> str:
    """The path of a ccmesh program."""
    if os.environ.get(variable):
        return os.environ[variable]
    bin_dir = os.environ.get("CCMESH_BIN_DIR")
    if not bin_dir:
        raise RuntimeError(f"set CCMESH_BIN_DIR (or {variable}) to the build's bin directory")
    return str(Path(bin_dir) / name)


def wait_for(what: str, condition: Callable[[], Optional[T]], deadline: float = EVENT_DEADLINE) -> T:
    """Polls ``condition`` until it returns something truthy; fails naming ``what``."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline} s waiting for {what}")
        time.sleep(0.02)  # a polling interval, not a synchronisation


class Process:
    """A program in its own process group, output to a log file."""

    def __init__(self, args: List[str], log: Path, env: Optional[Dict[str, str]] = None) -> None:
        self.log_path = log
        self._log = open(log, "wb")
        self.popen = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def kill(self, signo: int = signal.SIGKILL) -> None:
        """Sends ``signo`` to the process only (its CLIs die with it by PR_SET_PDEATHSIG)."""
        if self.running():
            os.kill(self.pid, signo)

    def stop(self) -> None:
        """Kills the whole group and reaps the process."""
        if self.running():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.popen.wait(timeout=EVENT_DEADLINE)
        try:  # children left in the group (CLIs) go too
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Cluster:
    """A broker (plus workers) in a temporary directory; :meth:`stop` ends everything."""

    def __init__(self, broker_args: Optional[List[str]] = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ccmesh-py-"))
        self.broker_args = list(broker_args or [])
        self.workers: Dict[str, Process] = {}
        self.frontend = "tcp://127.0.0.1:*"
        self.backend = "tcp://127.0.0.1:*"
        self.http = ""
        self._runs = 0
        self.broker: Optional[Process] = None
        self.curve: Optional[CurveKeys] = None  #: keys the cluster's own probes use
        self._launch_broker()

    # ---- broker -------------------------------------------------------------------------

    def _launch_broker(self) -> None:
        self._runs += 1
        ready = self.dir / f"broker-{self._runs}.ready"
        args = [
            binary("ccmesh-broker", "CCMESH_BROKER_BIN"),
            "--frontend", self.frontend,
            "--backend", self.backend,
            "--ready-file", str(ready),
            "--http", "127.0.0.1:0",
            "--log-level", "debug",
        ] + self.broker_args
        self.broker = Process(args, self.dir / f"broker-{self._runs}.log")
        broker = self.broker

        def endpoints() -> Optional[Dict[str, str]]:
            if not broker.running():
                raise AssertionError("the broker exited:\n" + broker.log())
            if not ready.exists():
                return None
            lines = dict(
                line.split("=", 1) for line in ready.read_text().splitlines() if "=" in line
            )
            return lines if "frontend" in lines and "backend" in lines else None

        found = wait_for("the broker's ready file", endpoints)
        self.frontend, self.backend = found["frontend"], found["backend"]
        self.http = found.get("http", "")

    def start_broker(self) -> None:
        """Starts a broker again on the same ports (after ``broker.stop()``)."""
        self._launch_broker()

    def restart_broker(self) -> None:
        """Kills the broker (SIGKILL) and starts a new one on the same ports."""
        assert self.broker is not None
        self.broker.stop()
        self._launch_broker()

    # ---- workers ------------------------------------------------------------------------

    def spawn_worker(self, worker_id: str, args: Optional[List[str]] = None) -> Process:
        home = self.dir / f"home-{worker_id}"
        home.mkdir(exist_ok=True)
        command = [
            binary("ccmesh-worker", "CCMESH_WORKER_BIN"),
            "--broker", self.backend,
            "--id", worker_id,
            "--cli", binary("ccmesh-mock-cli", "CCMESH_MOCK_CLI"),
            "--log-level", "debug",
        ] + list(args or [])
        env = {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude")}
        process = Process(command, self.dir / f"worker-{worker_id}.log", env)
        self.workers[worker_id] = process
        return process

    def start_worker(self, worker_id: str, args: Optional[List[str]] = None) -> Process:
        """Starts a worker and waits until the broker lists it."""
        process = self.spawn_worker(worker_id, args)
        self.wait_for_workers(lambda ids: worker_id in ids, f"worker {worker_id} to join")
        return process

    def wait_for_workers(self, condition: Callable[[List[str]], bool], what: str) -> None:
        with self.client(timeout=5) as probe:
            wait_for(what, lambda: condition([w.id for w in probe.status().workers]))

    def client(self, timeout: float = EVENT_DEADLINE, **kwargs: object) -> Client:
        if self.curve is not None and "curve" not in kwargs:
            kwargs["curve"] = self.curve
        return Client(self.frontend, timeout=timeout, **kwargs)  # type: ignore[arg-type]

    def tool(self, *args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        """Runs the C++ ``ccmesh`` tool against this cluster."""
        command = [binary("ccmesh", "CCMESH_TOOL"), "--broker", self.frontend, *args]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=EVENT_DEADLINE,
            env={**os.environ, **(env or {})},
        )

    # ---- the end ------------------------------------------------------------------------

    def logs(self) -> str:
        parts = [f"--- broker ---\n{self.broker.log() if self.broker else ''}"]
        parts += [f"--- worker {i} ---\n{p.log()}" for i, p in self.workers.items()]
        return "\n".join(parts)

    def stop(self) -> None:
        for process in list(self.workers.values()):
            process.stop()
        if self.broker is not None:
            self.broker.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
