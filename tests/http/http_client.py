"""A plain HTTP client for the tests, on http.client: JSON requests and server-sent events."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple


@dataclass
class Answer:
    status: int
    headers: Dict[str, str]
    body: Any


@dataclass
class Event:
    kind: str
    data: Any


@dataclass
class Stream:
    """An open SSE answer: its status and headers, and its events as they come."""

    status: int
    headers: Dict[str, str]
    connection: http.client.HTTPConnection
    response: http.client.HTTPResponse
    comments: List[str] = field(default_factory=list)

    def events(self) -> Iterator[Event]:
        kind, data = "message", []
        while True:
            line = self.response.readline()
            if not line:
                return
            text = line.decode().rstrip("\n")
            if text == "":
                if data:
                    yield Event(kind, json.loads("\n".join(data)))
                kind, data = "message", []
            elif text.startswith(":"):
                self.comments.append(text)
            elif text.startswith("event: "):
                kind = text[len("event: "):]
            elif text.startswith("data: "):
                data.append(text[len("data: "):])

    def close(self) -> None:
        """Drops the connection (a client that goes away mid-stream)."""
        self.connection.sock.close() if self.connection.sock else None
        self.connection.close()


class Http:
    """Requests to one base URL ("http://127.0.0.1:PORT"), with an optional bearer token."""

    def __init__(self, base: str, token: Optional[str] = None, timeout: float = 30.0) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port
        self.token = token
        self.timeout = timeout

    def _headers(self, extra: Optional[Dict[str, str]]) -> Dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def _send(self, method: str, path: str, body: Any, headers: Optional[Dict[str, str]],
              raw: Optional[bytes]) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        connection.request(method, path, body=payload, headers=self._headers(headers))
        return connection, connection.getresponse()

    def request(self, method: str, path: str, body: Any = None,
                headers: Optional[Dict[str, str]] = None, raw: Optional[bytes] = None) -> Answer:
        connection, response = self._send(method, path, body, headers, raw)
        try:
            text = response.read().decode()
            content = json.loads(text) if "json" in response.getheader("Content-Type", "") else text
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, content)
        finally:
            connection.close()

    def stream(self, path: str, body: Any) -> Stream:
        connection, response = self._send("POST", path, body, {"Accept": "text/event-stream"}, None)
        return Stream(response.status, {k.lower(): v for k, v in response.getheaders()},
                      connection, response)

    @staticmethod
    def session_path(name: str, suffix: str = "") -> str:
        return "/api/sessions/" + urllib.parse.quote(name, safe="") + suffix

    @staticmethod
    def pool_path(name: str, suffix: str = "") -> str:
        return "/api/pools/" + urllib.parse.quote(name, safe="") + suffix
