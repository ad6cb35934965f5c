"""Real far ends for engine tests: the answer peer (a second PJSUA2 process) and the
company simulator, both as subprocesses on loopback that are always killed afterwards."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.config import SipSettings
from engine.events import Event, EventBus, EventType, Subscription
from engine.sip.engine import SipEngine

HERE = Path(__file__).parent


class Proc:
    """A child process that printed a JSON ready line; its later JSON lines are collected."""

    def __init__(self, cmd: list[str], timeout: float = 120.0) -> None:
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
        self.lines: list[dict[str, Any]] = []
        self.ready = self._read_until(lambda d: d.get("event") == "ready", timeout)
        assert self.ready, f"{cmd} did not get ready"

    def _read_until(self, pred: Callable[[dict[str, Any]], bool],
                    timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if not r:
                continue
            line = self.proc.stdout.readline()
            if line.strip().startswith("{"):
                data = json.loads(line)
                self.lines.append(data)
                if pred(data):
                    return data
        return None

    def wait_for(self, pred: Callable[[dict[str, Any]], bool],
                 timeout: float = 10.0) -> dict[str, Any] | None:
        for d in self.lines:
            if pred(d):
                return d
        return self._read_until(pred, timeout)

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def answer_peer() -> Iterator[Callable[..., Proc]]:
    procs: list[Proc] = []

    def start(tone_hz: float = 440.0, record_dir: Path | None = None) -> Proc:
        cmd = [sys.executable, str(HERE / "answer_peer.py"), str(tone_hz)]
        if record_dir:
            cmd.append(str(record_dir))
        p = Proc(cmd, timeout=30)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.kill()


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Simulator(Proc):
    def __init__(self, company: str, log: Path, *extra: str) -> None:
        self.log = log
        super().__init__([sys.executable, "-m", "engine.cli", "simulate", "--company", company,
                          "--port", "0", "--log", str(log), *extra])

    @property
    def uri(self) -> str:
        return str(self.ready["uri"])

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in read_log(self.log) if name is None or e["event"] == name]

    def wait_log(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(e) for e in read_log(self.log)):
                return True
            time.sleep(0.05)
        return False


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Callable[..., Simulator]]:
    sims: list[Simulator] = []

    def start(company: str = "acme_bank", *extra: str) -> Simulator:
        s = Simulator(company, tmp_path / f"sim_{company}_{len(sims)}.jsonl", *extra)
        sims.append(s)
        return s

    yield start
    for s in sims:
        s.kill()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def engine(bus: EventBus) -> Iterator[SipEngine]:
    eng = SipEngine(bus, SipSettings(rtp_timeout=5.0)).start()
    yield eng
    eng.stop()


def wait_event(sub: Subscription, type_: EventType, call_id: str | None = None,
               timeout: float = 10.0) -> Event:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ev = sub.get(timeout=max(0.0, deadline - time.monotonic()))
        if ev is None:
            continue
        seen.append(ev.type.value)
        if ev.type == type_ and (call_id is None or ev.call_id == call_id):
            return ev
    raise AssertionError(f"no {type_} within {timeout} s; saw {seen}")
