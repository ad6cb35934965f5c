"""Calls waiting to be placed: the user queues several, reorders, pauses or cancels them, and
the app places the first unpaused one whenever a line is free."""

from __future__ import annotations

import dataclasses
import itertools


@dataclasses.dataclass
class QueuedCall:
    entry_id: int
    target: str
    intent: str = ""
    company: str = ""
    paused: bool = False


class CallQueue:
    def __init__(self) -> None:
        self.entries: list[QueuedCall] = []
        self._ids = itertools.count(1)

    def add(self, target: str, intent: str = "", company: str = "") -> QueuedCall:
        entry = QueuedCall(next(self._ids), target, intent, company)
        self.entries.append(entry)
        return entry

    def _index(self, entry_id: int) -> int | None:
        return next((i for i, e in enumerate(self.entries) if e.entry_id == entry_id), None)

    def move(self, entry_id: int, delta: int) -> bool:
        i = self._index(entry_id)
        if i is None:
            return False
        j = max(0, min(len(self.entries) - 1, i + delta))
        if i == j:
            return False
        self.entries.insert(j, self.entries.pop(i))
        return True

    def toggle_pause(self, entry_id: int) -> bool:
        i = self._index(entry_id)
        if i is None:
            return False
        self.entries[i].paused = not self.entries[i].paused
        return True

    def cancel(self, entry_id: int) -> bool:
        i = self._index(entry_id)
        if i is None:
            return False
        del self.entries[i]
        return True

    def pop_next(self) -> QueuedCall | None:
        for i, entry in enumerate(self.entries):
            if not entry.paused:
                return self.entries.pop(i)
        return None
