"""Who runs next on the one shared Whisper model when several calls want it.

Why: every call's analyzer has its own STT worker, and all of them share one model that runs
one request at a time. A plain lock lets whichever thread the OS wakes go next, so a person's
first words on one call (a 0.3 s partial that decides the alert) could wait behind other
calls' finals of long announcements (1-2 s of CPU each on a slow machine). With six calls at
once its one thread is busy about a third of the time (``bench/bench_concurrent.py``: 5.6 CPU-s
per call-minute), and the wait grows with every call queued: past ten it never idles.

The gate serves the earliest *deadline* first: a request's deadline is when it asked plus its
slack. Partials have none; finals may wait ``FINAL_SLACK_S`` behind partials that came after
them, and never longer, so a busy line of partials cannot starve the transcript and the
navigator's menu words.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Iterator

FINAL_SLACK_S = 2.0


class ModelGate:
    """A lock whose waiters go in order of deadline (then of arrival); ``capacity`` requests
    may hold it at once (one per model replica)."""

    def __init__(self, capacity: int = 1) -> None:
        self._cond = threading.Condition()
        self._capacity = max(1, capacity)
        self._busy = 0
        self._waiting: list[tuple[float, int]] = []
        self._seq = itertools.count()

    @contextlib.contextmanager
    def turn(self, slack_s: float = 0.0) -> Iterator[None]:
        """Hold the model; wait first for every request whose deadline is sooner."""
        with self._cond:
            ticket = (time.monotonic() + slack_s, next(self._seq))
            heapq.heappush(self._waiting, ticket)
            try:
                while self._busy >= self._capacity or self._waiting[0] != ticket:
                    self._cond.wait()
            except BaseException:  # interrupted while waiting: the ticket must not block others
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._cond.notify_all()
                raise
            heapq.heappop(self._waiting)
            self._busy += 1
            self._cond.notify_all()  # the next waiter may fit beside this one
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def waiting(self) -> int:
        """Requests waiting for the model now (not the one running)."""
        with self._cond:
            return len(self._waiting)
