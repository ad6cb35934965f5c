"""Fixtures for the terminal app: private config/data/history paths, a fixed clock, and a fake
runtime that speaks the real event bus, so snapshots are deterministic and need no SIP."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from engine.config import Settings
from engine.events import Event, EventBus, EventType

T0 = 1_780_000_000.0  # a fixed "now" for every clock shown on screen

# pytest runs with --import-mode=importlib: make tui_scenes.py importable by the tests here
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tui_scenes


@pytest.fixture(autouse=True)
def private_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOLDSLAYER_DB_PATH", str(tmp_path / "history.sqlite3"))
    monkeypatch.setenv("HOLDSLAYER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOLDSLAYER_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    return tmp_path


def done(value: Any = True) -> Future:
    fut: Future = Future()
    fut.set_result(value)
    return fut


class FakeEngine:
    """Answers commands at once and publishes what a real engine would."""

    def __init__(self, bus: EventBus, clock: list[float]) -> None:
        self.bus, self.clock = bus, clock
        self.digits: list[tuple[str, str]] = []
        self.hangups: list[str] = []
        self.bridged: list[tuple[str, str]] = []
        self.played: list[tuple[str, Any]] = []

    def emit(self, type_: EventType, call_id: str, **data: Any) -> None:
        self.bus.publish(Event(type_, call_id, data, timestamp=self.clock[0]))

    def hangup(self, call_id: str, reason: str = "hung up by user") -> Future:
        self.hangups.append(call_id)
        self.emit(EventType.CALL_ENDED, call_id, reason=reason, duration=1.0)
        return done()

    def send_dtmf(self, call_id: str, digits: str, method: str | None = None) -> Future:
        self.digits.append((call_id, digits))
        self.emit(EventType.IVR_DTMF_SENT, call_id, digits=digits, method="rfc2833")
        return done()

    def bridge(self, a: str, b: str) -> Future:
        self.bridged.append((a, b))
        return done()

    def play_file(self, call_id: str, path: str) -> Future:
        self.played.append((call_id, path))
        return done()

    def play_pcm(self, call_id: str, pcm: Any) -> Future:
        self.played.append((call_id, pcm))
        return done()

    def tap(self, call_id: str, direction: str = "remote") -> Any:
        return FakeTap()


class FakeTap:
    """A far end that says nothing; closed subscriptions end the reader."""

    def subscribe(self, maxframes: int = 500) -> Any:
        from engine.sip.audio_tap import AudioTap

        return AudioTap("fake", "remote").subscribe(maxframes)


class FakeRuntime:
    def __init__(self, store: Any = None, clock: list[float] | None = None) -> None:
        self.bus = EventBus()
        self.clock = clock or [T0]
        self.engine = FakeEngine(self.bus, self.clock)
        self.store = store
        self.settings = Settings()
        self.placed: list[str] = []
        self.stopped = False

    def start(self) -> FakeRuntime:
        return self

    def place_call(self, target: str, *, intent: str = "", company: str = "",
                   record: bool | None = None) -> str:
        call_id = f"call{len(self.placed) + 1}"
        self.placed.append(target)
        self.engine.emit(EventType.CALL_STARTED, call_id, target=target, company=company,
                         intent=intent, uri=f"sip:{target}", direction="outbound")
        return call_id

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_runtime() -> Iterator[FakeRuntime]:
    yield FakeRuntime()
