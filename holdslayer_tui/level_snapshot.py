"""The latest audio levels per call, written by the bus thread at up to 50 Hz and read by the
live screen on a 20 Hz timer: a lock-protected snapshot instead of one message per frame, so a
busy audio stream can never flood the UI's message queue."""

from __future__ import annotations

import collections
import dataclasses
import threading

HISTORY = 120  # samples kept for the sparkline (a few seconds at the analyzer's rate)
FLOOR_DBFS = -80.0


@dataclasses.dataclass(frozen=True, slots=True)
class Level:
    rms_dbfs: float = FLOOR_DBFS
    peak_dbfs: float = FLOOR_DBFS
    label: str = ""
    seq: int = 0  # grows with every update, so a reader can tell "nothing new"


class LevelSnapshot:
    def __init__(self, history: int = HISTORY) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, Level] = {}
        self._history: dict[str, collections.deque[float]] = {}
        self._size = history
        self._seq = 0

    def update(self, call_id: str, rms_dbfs: float, peak_dbfs: float, label: str = "") -> None:
        with self._lock:
            self._seq += 1
            self._latest[call_id] = Level(float(rms_dbfs), float(peak_dbfs), label, self._seq)
            hist = self._history.setdefault(call_id, collections.deque(maxlen=self._size))
            hist.append(max(FLOOR_DBFS, float(rms_dbfs)))

    def latest(self, call_id: str) -> Level:
        with self._lock:
            return self._latest.get(call_id, Level())

    def history(self, call_id: str) -> list[float]:
        with self._lock:
            return list(self._history.get(call_id, ()))

    def forget(self, call_id: str) -> None:
        with self._lock:
            self._latest.pop(call_id, None)
            self._history.pop(call_id, None)
