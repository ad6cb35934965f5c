"""The simulator's ground-truth log: one JSON object per line, appended and flushed at once,
so a test or a person can read what really happened on the company's side while a call runs.

Every line has ``t`` (unix time) and ``event``; per-call events carry ``call``. This format is
public: people script against it, so add fields and events, never rename them.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO


class GroundTruthLog:
    def __init__(self, path: Path | None = None, echo: TextIO | None = None) -> None:
        self.path = path
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")
        self._echo = echo
        self._lock = threading.Lock()

    def write(
        self, event: str, call: int | None = None, t: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        record: dict[str, Any] = {"t": round(time.time() if t is None else t, 6), "event": event}
        if call is not None:
            record["call"] = call
        record.update(fields)
        line = json.dumps(record, default=str)
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()
            if self._echo is not None:
                print(line, file=self._echo, flush=True)
        return record

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def stderr_echo(verbose: bool) -> TextIO | None:
    return sys.stderr if verbose else None
