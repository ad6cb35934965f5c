"""The latest audio levels per call, written by the bus thread at up to 50 Hz and read by the
live screen on a 30 Hz timer: a lock-protected snapshot instead of one message per frame, so a
busy audio stream can never flood the UI's message queue.

Levels come in bursts: the engine's analysis wakes every 60 ms and publishes the 25 Hz levels
of the frames that came meanwhile at once, so a reader that took only the newest saw 16.7 a
second. ``next_level`` hands them out one per read instead, at most ``PACE_BEHIND`` behind the
newest: every level gets its frame on screen, a tick or two late.
"""

from __future__ import annotations

import collections
import dataclasses
import threading

HISTORY = 120  # samples kept for the sparkline (a few seconds at the analyzer's rate)
FLOOR_DBFS = -80.0
PACE_BEHIND = 3  # levels a reader may lag behind the newest before it skips ahead


@dataclasses.dataclass(frozen=True, slots=True)
class Level:
    rms_dbfs: float = FLOOR_DBFS
    peak_dbfs: float = FLOOR_DBFS
    label: str = ""
    seq: int = 0  # grows with every update


class LevelSnapshot:
    def __init__(self, history: int = HISTORY) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, collections.deque[Level]] = {}
        self._history: dict[str, collections.deque[float]] = {}
        self._size = history
        self._seq = 0

    def update(self, call_id: str, rms_dbfs: float, peak_dbfs: float, label: str = "") -> None:
        with self._lock:
            self._seq += 1
            level = Level(float(rms_dbfs), float(peak_dbfs), label, self._seq)
            self._pending.setdefault(call_id, collections.deque(maxlen=PACE_BEHIND)).append(level)
            hist = self._history.setdefault(call_id, collections.deque(maxlen=self._size))
            hist.append(max(FLOOR_DBFS, float(rms_dbfs)))

    def next_level(self, call_id: str) -> Level | None:
        """The oldest level this reader has not shown yet (None: nothing new)."""
        with self._lock:
            pending = self._pending.get(call_id)
            return pending.popleft() if pending else None

    def history(self, call_id: str) -> list[float]:
        with self._lock:
            return list(self._history.get(call_id, ()))

    def forget(self, call_id: str) -> None:
        with self._lock:
            self._pending.pop(call_id, None)
            self._history.pop(call_id, None)
