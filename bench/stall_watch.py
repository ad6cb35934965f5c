"""Where the one analysis thread is when a single frame's work runs long.

Why: one thread feeds every live call (``engine.audio.analysis_loop``), so a frame that takes
100 ms holds up every call by that much. Such stalls are rare and short, too rare for a
profile to show: a watcher thread looks at the feeding thread's stack once a frame has run
past ``limit_s`` and keeps it with the frame's whole time, so a benchmark can say which code
stalled.
"""

from __future__ import annotations

import collections
import sys
import threading
import time
import traceback


class StallWatch:
    """``begin(call)`` / ``end()`` around each frame's work; ``run`` on a thread of its own."""

    def __init__(self, limit_s: float = 0.04, every_s: float = 0.01) -> None:
        self.limit_s, self.every_s = limit_s, every_s
        self.stop = threading.Event()
        self.stalls: list[tuple[float, str, str]] = []  # (seconds, call, where)
        self._current: tuple[int, float, str] | None = None
        self._where = ""

    def begin(self, call: str) -> None:
        self._where = ""
        self._current = (threading.get_ident(), time.monotonic(), call)

    def end(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            took = time.monotonic() - current[1]
            if took >= self.limit_s:
                self.stalls.append((took, current[2], self._where or "(not sampled)"))

    def run(self) -> None:
        while not self.stop.wait(self.every_s):
            current = self._current
            if current is None or self._where or time.monotonic() - current[1] < self.limit_s:
                continue
            frame = sys._current_frames().get(current[0])
            if frame is not None and self._current is current:
                self._where = _project_frames(frame)

    def summary(self, top: int = 8) -> list[str]:
        """The stalls, counted by where they were, longest first."""
        by_where: dict[str, list[float]] = collections.defaultdict(list)
        for took, _, where in self.stalls:
            by_where[where].append(took)
        rows = sorted(by_where.items(), key=lambda kv: -max(kv[1]))[:top]
        return [f"{len(t)}x, longest {max(t) * 1000:.0f} ms: {w}" for w, t in rows]


def _project_frames(frame: object) -> str:
    """The innermost frames of the project's own code, then the call they made."""
    stack = traceback.extract_stack(frame)  # type: ignore[arg-type]
    ours = [f for f in stack if "/engine/" in f.filename]
    inner = stack[-1]
    names = [f"{f.filename.rsplit('/engine/', 1)[-1]}:{f.name}" for f in ours[-3:]]
    return " > ".join(names) + f" > {inner.name} ({inner.filename.rsplit('/', 1)[-1]})"
