#!/usr/bin/python3
"""The broker's status page in a real browser: a session's row follows its failover live.

A real broker and two real workers (mock CLI) on free loopback ports; headless Chromium,
driven by Selenium, opens the page once and must see a session move from the worker that
was killed to the other one, and the worker_lost event, without a reload.

Environment: CCMESH_BROKER_BIN, CCMESH_WORKER_BIN, CCMESH_TOOL_BIN, CCMESH_MOCK_CLI_BIN (the
built programs; ctest sets them); CCMESH_CHROMIUM, CCMESH_CHROMEDRIVER (default: Debian's
/usr/bin/chromium and /usr/bin/chromedriver). A missing browser, driver or Selenium fails
the test unless CCMESH_SKIP_BROWSER=1, which skips it (exit status 77 for ctest).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

# Every wait of this test: generous, since ctest -j2 on two cores shares them with others.
DEADLINE_S = 30.0
SESSION = "browser-test"
WORKER_A = "worker-a"
WORKER_B = "worker-b"
# Fast heartbeats, but a 5 s lease: a killed worker is noticed at once (its connection
# drops), while a 300 ms lease (liveness 3) lapsed on a busy machine while Chromium started,
# and worker A fenced itself before the page had shown the session on it.
BROKER_LIVENESS = ["--heartbeat-ms", "100", "--liveness", "50"]

CHROMIUM = os.environ.get("CCMESH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CCMESH_CHROMEDRIVER", "/usr/bin/chromedriver")


def missing_browser():
    """What this machine lacks to drive a browser, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is not an executable file"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"{sys.executable} cannot import selenium"
    return None


def wait_until(what, predicate, on_timeout=lambda: ""):
    """Polls `predicate` until it returns a true value (returned) or DEADLINE_S passes."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {DEADLINE_S} s waiting for {what}\n{on_timeout()}")
        time.sleep(0.05)  # a polling interval, not a synchronisation


class Process:
    """A program in its own process group, its output in a log file."""

    def __init__(self, name, args, log_dir, env=None):
        self.name = name
        self.log_path = os.path.join(log_dir, name + ".log")
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          env=env)

    def running(self):
        return self.popen.poll() is None

    def kill_group(self, sig=signal.SIGKILL):
        """Sends `sig` to the whole process group (the group id is the leader's pid)."""
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        """SIGTERM to the program (it stops its children itself), SIGKILL to what is left."""
        if self.running():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                pass
        self.kill_group()
        self.popen.wait()

    def log(self):
        with open(self.log_path, errors="replace") as log:
            return f"--- {self.name} ---\n{log.read()}"


class StatusPageTest(unittest.TestCase):
    def setUp(self):
        reason = missing_browser()
        if reason:
            if os.environ.get("CCMESH_SKIP_BROWSER") == "1":
                self.skipTest(f"CCMESH_SKIP_BROWSER=1 and {reason}")
            self.fail(f"{reason}; install chromium chromium-driver python3-selenium "
                      "(scripts/install-deps.sh) or set CCMESH_SKIP_BROWSER=1 to skip")
        self.bin = {key: os.environ[f"CCMESH_{key.upper()}_BIN"]
                    for key in ("broker", "worker", "tool", "mock_cli")}
        self.dir = tempfile.mkdtemp(prefix="ccmesh-browser-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.processes = []
        self.addCleanup(self.stopAll)
        self.startBroker()

    def stopAll(self):
        for process in reversed(self.processes):
            process.stop()

    def logs(self):
        return "\n".join(process.log() for process in self.processes)

    def startBroker(self):
        ready = os.path.join(self.dir, "ready")
        broker = Process("broker", [
            self.bin["broker"], "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
            "--http", "127.0.0.1:0", "--ready-file", ready, *BROKER_LIVENESS,
        ], self.dir)
        self.processes.append(broker)

        def endpoints():
            if not broker.running():
                raise AssertionError("the broker exited\n" + self.logs())
            if not os.path.exists(ready):
                return None
            with open(ready) as file:
                values = dict(line.strip().split("=", 1) for line in file if "=" in line)
            return values if {"frontend", "backend", "http"} <= values.keys() else None

        self.endpoints = wait_until("the broker's ready file", endpoints, self.logs)

    def startWorker(self, worker_id):
        home = os.path.join(self.dir, worker_id)
        os.makedirs(home)
        env = dict(os.environ, HOME=home, CLAUDE_CONFIG_DIR=os.path.join(home, ".claude"))
        worker = Process(worker_id, [
            self.bin["worker"], "--broker", self.endpoints["backend"], "--id", worker_id,
            "--heartbeat-ms", "100", "--stop-grace-ms", "500", "--cli", self.bin["mock_cli"],
        ], self.dir, env)
        self.processes.append(worker)
        wait_until(f"{worker_id} in the broker's status",
                   lambda: worker_id in [w["id"] for w in self.tool("status")["workers"]],
                   self.logs)
        return worker

    def tool(self, *args):
        """Runs `ccmesh --json ARGS` and returns its JSON reply, which must say ok."""
        done = subprocess.run(
            [self.bin["tool"], "--broker", self.endpoints["frontend"], "--json",
             "--timeout", str(int(DEADLINE_S * 1000)), *args],
            capture_output=True, text=True, timeout=DEADLINE_S + 5)
        reply = json.loads(done.stdout)
        self.assertTrue(reply.get("ok"), f"ccmesh {' '.join(args)}: {done.stdout}{done.stderr}")
        return reply

    def openBrowser(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage",
                         "--user-data-dir=" + os.path.join(self.dir, "chromium")):
            options.add_argument(argument)
        service = Service(CHROMEDRIVER, log_path=os.path.join(self.dir, "chromedriver.log"))
        driver = webdriver.Chrome(service=service, options=options)

        def quit_browser():
            try:
                driver.quit()
            finally:
                # quit() ends the driver; make sure of it, by pid, if it did not.
                if service.process is not None and service.process.poll() is None:
                    service.process.kill()
                    service.process.wait()

        self.addCleanup(quit_browser)
        driver.set_page_load_timeout(DEADLINE_S)
        return driver

    def waitOnPage(self, driver, what, predicate):
        """Waits until `predicate(driver)` holds; on timeout says what, with the page and logs."""
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            return WebDriverWait(driver, DEADLINE_S, poll_frequency=0.1,
                                 ignored_exceptions=[StaleElementReferenceException]
                                 ).until(predicate)
        except TimeoutException:
            page = driver.find_element("tag name", "body").text
            raise AssertionError(f"timed out after {DEADLINE_S} s waiting for {what}\n"
                                 f"--- page ---\n{page}\n{self.logs()}") from None

    @staticmethod
    def workerCell(driver):
        """The worker cell of the session's row, or "" while there is none."""
        cells = driver.find_elements("css selector", f'tr[data-session="{SESSION}"] td.worker')
        return cells[0].text if cells else ""

    @staticmethod
    def eventLines(driver):
        return [li.text for li in driver.find_elements("css selector", "#events li")]

    def test_session_row_follows_failover_live(self):
        # Worker A alone first, so the session is placed there; then B, its failover target.
        worker_a = self.startWorker(WORKER_A)
        placed = self.tool("start", SESSION)
        self.assertEqual(placed["worker"], WORKER_A)
        self.startWorker(WORKER_B)

        driver = self.openBrowser()
        driver.get(self.endpoints["http"] + "/")
        # Set on this document only: still there at the end proves the page was not reloaded.
        driver.execute_script("window.ccmeshSameDocument = true;")
        self.waitOnPage(driver, "the page's event stream to be live",
                        lambda d: d.find_element("id", "live").text == "live")
        self.waitOnPage(driver, f"row {SESSION} on {WORKER_A}",
                        lambda d: self.workerCell(d) == WORKER_A)

        worker_a.kill_group(signal.SIGKILL)
        worker_a.popen.wait()

        self.waitOnPage(driver, f"row {SESSION} on {WORKER_B} after {WORKER_A} died",
                        lambda d: self.workerCell(d) == WORKER_B)
        self.waitOnPage(driver, f"a worker_lost event for {WORKER_A} in the event list",
                        lambda d: any(" worker_lost: " in line and WORKER_A in line
                                      for line in self.eventLines(d)))
        self.assertTrue(driver.execute_script("return window.ccmeshSameDocument === true;"),
                        "the page was reloaded")
        self.assertEqual(self.tool("info", SESSION)["worker"], WORKER_B)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    # Skipped (CCMESH_SKIP_BROWSER=1): ctest's SKIP_RETURN_CODE.
    sys.exit(77 if result.skipped else 0)
