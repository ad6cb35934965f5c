"""One thread feeds every live call's analyzer, waking every ``ANALYSIS_WAKE_S``.

Why one thread, not one per call: the work per 20 ms frame is small (about 0.35 ms), and
most of what a wake costs is the caches gone cold while the thread slept. A thread per call
pays that per call; one thread pays it once for all of them, and then runs every call's
frames through the same warm code and weights. Measured here (20 calls, music through the
classifier and detector, 3 frames a wake): 2.1 CPU-s per call-minute with a thread each,
1.1 with one thread for all; with real calls (``bench/bench_concurrent.py``, against its
``--thread-per-call``) the feeding fell from 2.3 to 1.8 CPU-s per call-minute.

The per-frame work is Python holding the GIL, so one thread loses no parallelism; Whisper
runs on its own workers. A call whose analysis fails is dropped alone: the others go on.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# a wake costs about 0.7 ms of CPU beyond a frame's own 0.3 ms (cold caches after the
# sleep): taking the frames that came meanwhile every 60 ms, not each as it comes, cut the
# feeders' CPU from 2.26 to 1.8 s per call-minute at 20 calls; a person is heard at most
# this much later
ANALYSIS_WAKE_S = 0.06


class Frame(Protocol):
    pcm: np.ndarray
    t: float


class Frames(Protocol):
    """A call's frames as its audio tap delivers them (``FrameSubscription``)."""

    closed: bool

    def get_all(self, timeout: float | None = None) -> list[Frame]: ...


class Analyzer(Protocol):
    def feed(self, frame: np.ndarray, t: float) -> None: ...


@dataclasses.dataclass(slots=True)
class _Call:
    call_id: str
    analyzer: Analyzer
    frames: Frames
    finish: Callable[[], None]


class AnalysisLoop:
    """Feeds each added call's frames to its analyzer until its frames end, then runs its
    ``finish`` (close the analyzer, save what it learned) on a thread of its own, since a
    finish waits for the last words to be transcribed. The thread runs while calls do."""

    def __init__(self, wake_s: float = ANALYSIS_WAKE_S) -> None:
        self.wake_s = wake_s
        self._calls: dict[str, _Call] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, call_id: str, analyzer: Analyzer, frames: Frames,
            finish: Callable[[], None]) -> None:  # fmt: skip
        with self._lock:
            self._calls[call_id] = _Call(call_id, analyzer, frames, finish)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="analysis", daemon=True)
                self._thread.start()

    def calls(self) -> list[str]:
        with self._lock:
            return list(self._calls)

    def _run(self) -> None:
        next_wake = time.monotonic()
        while True:
            with self._lock:
                calls = list(self._calls.values())
                if not calls:
                    self._thread = None
                    return
            for call in calls:
                if not self._feed(call):
                    with self._lock:
                        self._calls.pop(call.call_id, None)
                    threading.Thread(target=self._finish, args=(call,),
                                     name=f"analysis-end-{call.call_id}", daemon=True).start()
            next_wake = max(next_wake + self.wake_s, time.monotonic())
            time.sleep(max(0.0, next_wake - time.monotonic()))

    @staticmethod
    def _feed(call: _Call) -> bool:
        """Every frame waiting; False once the call's frames have ended (or its analysis
        failed: the call goes on without it)."""
        try:
            # read before taking the frames: a tap that closes in between has queued its
            # last frames already, so they are taken now and the next wake ends the call
            closed = call.frames.closed
            frames = call.frames.get_all(timeout=0)
            for frame in frames:
                call.analyzer.feed(frame.pcm, frame.t)
            return bool(frames) or not closed
        except Exception:
            log.exception("audio analysis failed for call %s; the call goes on", call.call_id)
            return False

    @staticmethod
    def _finish(call: _Call) -> None:
        try:
            call.finish()
        except Exception:
            log.exception("could not finish the audio analysis of call %s", call.call_id)
