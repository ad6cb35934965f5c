"""Real local servers the notification tests talk to: a threaded HTTP server that records
every request and answers from a script of statuses; a free port; a TLS certificate."""

from __future__ import annotations

import dataclasses
import http.server
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from engine.events import Event, EventType


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class RecordingServer(http.server.ThreadingHTTPServer):
    """Answers each request with the next scripted (status, delay_s), then ``default``."""

    daemon_threads = True

    def __init__(self, default: int = 200) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Request] = []
        self.script: list[tuple[int, float]] = []
        self.default = default
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_response(self, request: Request) -> tuple[int, float]:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else (self.default, 0.0)

    def wait_requests(self, n: int, timeout: float = 10.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.requests)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: RecordingServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        req = Request("POST", self.path, dict(self.headers.items()), self.rfile.read(length))
        status, delay = self.server.next_response(req)
        if delay:
            time.sleep(delay)
        body = json.dumps({"ok": status < 400, "sid": "SM0123"}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout test)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def recording_server(default: int = 200) -> Iterator[RecordingServer]:
    server = RecordingServer(default)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost made with the openssl CLI (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    with recording_server() as server:
        yield server


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def human_event() -> Event:
    return Event(
        type=EventType.HUMAN_DETECTED,
        call_id="call-7",
        data={"evidence": "greeting", "confidence": 0.92},
    )
