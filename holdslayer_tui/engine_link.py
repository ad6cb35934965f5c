"""The UI's one handle on the engine: starts the :class:`Runtime` off the UI thread, turns bus
events into Textual messages, keeps audio levels in a snapshot, and stops everything.

Only thread-safe calls cross this boundary: the bus callback thread uses ``post_message`` (never
``call_from_thread``, which blocks and can deadlock at shutdown), and engine commands return
futures that the UI never waits on from its own thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from engine.events import Event, EventBus, EventType, Subscription
from holdslayer_tui.level_snapshot import LevelSnapshot
from holdslayer_tui.messages import EngineEvent

log = logging.getLogger(__name__)


class RuntimeLike(Protocol):
    """What the UI needs of :class:`engine.runtime.Runtime` (tests pass a fake)."""

    bus: EventBus
    store: Any
    engine: Any
    settings: Any

    def start(self) -> Any: ...
    def place_call(self, target: str, *, intent: str = "", company: str = "",
                   record: bool | None = None) -> str: ...
    def stop(self) -> None: ...


RuntimeFactory = Callable[[], RuntimeLike]


def real_runtime_factory(settings: Any, demo_hold_seconds: float | None = None,
                         demo_log_dir: Path | None = None) -> RuntimeFactory:
    def make() -> RuntimeLike:
        from engine.runtime import Runtime

        return Runtime(settings, demo_hold_seconds=demo_hold_seconds, demo_log_dir=demo_log_dir)

    return make


class EngineLink:
    def __init__(self, factory: RuntimeFactory, post: Callable[[Any], Any]) -> None:
        self._factory = factory
        self._post = post
        self.levels = LevelSnapshot()
        self.runtime: RuntimeLike | None = None
        self._sub: Subscription | None = None
        self._ended: dict[str, threading.Event] = {}
        self._ended_lock = threading.Lock()
        self._stopped = False
        self._stop_lock = threading.Lock()
        self.ready = threading.Event()

    # -- lifecycle (call from a worker thread) ------------------------------------------------
    def start(self) -> None:
        runtime = self._factory()
        # subscribe before start so nothing the engine says at start-up is lost
        self._sub = runtime.bus.subscribe(self._on_event, maxsize=5000)
        self.runtime = runtime
        runtime.start()
        self.ready.set()

    def stop(self) -> None:
        """Idempotent; safe from any thread but the bus callback thread."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        runtime, self.runtime = self.runtime, None
        if self._sub is not None:
            self._sub.close()
        if runtime is not None:
            with contextlib.suppress(Exception):
                runtime.stop()

    # -- bus thread ---------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.type == EventType.AUDIO_LEVEL:
            d = event.data
            self.levels.update(event.call_id, d.get("rms_dbfs", -80.0),
                               d.get("peak_dbfs", -80.0), str(d.get("label") or ""))
            return
        if event.type == EventType.CALL_ENDED:
            with self._ended_lock:
                self._ended.setdefault(event.call_id, threading.Event()).set()
        self._post(EngineEvent(event))

    # -- commands (worker threads) ------------------------------------------------------------
    def place_call(self, target: str, intent: str = "", company: str = "") -> str:
        if self.runtime is None or not self.ready.is_set():
            raise RuntimeError("the engine is not running yet")
        call_id = self.runtime.place_call(target, intent=intent, company=company)
        with self._ended_lock:
            self._ended.setdefault(call_id, threading.Event())
        return call_id

    def place_handover_leg(self, call_id: str, target: str) -> str:
        """Ring the user's phone for ``call_id`` (no navigation, no history row of its own)."""
        if self.runtime is None or not self.ready.is_set():
            raise RuntimeError("the engine is not running yet")
        place = getattr(self.runtime, "place_handover_leg", None)
        if place is None:  # a runtime without hand-over legs: an ordinary call
            leg = self.runtime.place_call(target, intent="", company="")
        else:
            leg = place(call_id, target)
        with self._ended_lock:
            self._ended.setdefault(leg, threading.Event())
        return leg

    def hang_up_all(self, call_ids: list[str], timeout: float = 1.5) -> list[str]:
        """Hang up and wait (bounded) for each CALL_ENDED; returns the ids still not ended."""
        if self.runtime is None:
            return []
        for call_id in call_ids:
            with contextlib.suppress(Exception):
                fut = self.runtime.engine.hangup(call_id, "hung up: Hold Slayer closed")
                fut.add_done_callback(lambda f: f.exception())
        deadline = time.monotonic() + timeout
        left = []
        for call_id in call_ids:
            with self._ended_lock:
                ended = self._ended.setdefault(call_id, threading.Event())
            if not ended.wait(max(0.0, deadline - time.monotonic())):
                left.append(call_id)
        return left

    # -- fire-and-forget commands (safe on the UI thread: they only enqueue) -----------------
    def _engine(self) -> Any:
        return self.runtime.engine if self.runtime is not None else None

    def hangup(self, call_id: str) -> None:
        if (engine := self._engine()) is not None:
            with contextlib.suppress(Exception):
                engine.hangup(call_id).add_done_callback(lambda f: f.exception())

    def send_digits(self, call_id: str, digits: str) -> None:
        if (engine := self._engine()) is not None:
            with contextlib.suppress(Exception):
                engine.send_dtmf(call_id, digits).add_done_callback(lambda f: f.exception())

    def bridge(self, a: str, b: str) -> None:
        if (engine := self._engine()) is not None:
            with contextlib.suppress(Exception):
                engine.bridge(a, b).add_done_callback(lambda f: f.exception())

    def play_pcm(self, call_id: str, pcm: Any) -> None:
        """16 kHz mono int16 audio into the call (speech, the keep-warm prompt)."""
        if (engine := self._engine()) is not None:
            with contextlib.suppress(Exception):
                engine.play_pcm(call_id, pcm).add_done_callback(lambda f: f.exception())

    def tap(self, call_id: str) -> Any:
        """The call's far-end audio frames (for listening in); raises if there is no call."""
        if (engine := self._engine()) is None:
            raise RuntimeError("the engine is not running")
        return engine.tap(call_id, "remote")

    def play_file(self, call_id: str, path: str) -> None:
        if (engine := self._engine()) is not None:
            with contextlib.suppress(Exception):
                engine.play_file(call_id, path).add_done_callback(lambda f: f.exception())

    @property
    def store(self) -> Any:
        return self.runtime.store if self.runtime is not None else None
