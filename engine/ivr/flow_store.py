"""Learned call flows: per company and intent, the menus heard and the keys that reached the
queue, so the next call can replay them as fast as someone who knows the menu by heart.

Why a table of its own: ``call_flows`` in the history store keeps a digit string and node
ids per successful call (what history and analytics show). Replay needs more: what each menu
sounded like (its opening words and options, to verify it is still the same menu before
pressing), whether a step was a choice or data (data is re-read from the profile, so account
numbers are never copied into flows), and timings. It lives in the same SQLite file, through
the :class:`HistoryStore` connection, created on first use.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from typing import Any

from sqlalchemy import text

from engine.store.database import HistoryStore

_DDL = (
    "CREATE TABLE IF NOT EXISTS ivr_flows ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " company TEXT NOT NULL, intent TEXT NOT NULL DEFAULT '', intent_key TEXT NOT NULL,"
    " steps TEXT NOT NULL DEFAULT '[]', successes INTEGER NOT NULL DEFAULT 0,"
    " failures INTEGER NOT NULL DEFAULT 0, seconds REAL, created_at REAL, updated_at REAL,"
    " UNIQUE (company, intent_key))"
)


def intent_key(intent: str) -> str:
    """Intents typed slightly differently ("Dispute a charge." / "dispute a charge") share a
    flow."""
    return " ".join(re.findall(r"[a-z0-9]+", intent.lower()))


@dataclasses.dataclass(slots=True)
class FlowStep:
    """One menu along the way and what we did there."""

    opening: str  # the menu's first words, to recognise it early
    keys: list[str]  # option keys it offered
    labels: list[str]  # their labels
    digits: str  # what we pressed ("" for a data step: read from the profile)
    kind: str = "option"  # option | data
    field: str = ""  # for data steps: which profile field
    terminator: str = ""
    seconds: float = 0.0  # from this menu's start to our key

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FlowStep:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in fields})


@dataclasses.dataclass(slots=True)
class LearnedFlow:
    company: str
    intent: str
    steps: list[FlowStep]
    successes: int = 0
    failures: int = 0
    seconds: float | None = None

    @property
    def digits(self) -> str:
        return ",".join(s.digits or f"<{s.field}>" for s in self.steps)


class FlowStore:
    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        with store.tx() as conn:
            conn.execute(text(_DDL))

    def find(self, company: str, intent: str) -> LearnedFlow | None:
        if not company:
            return None
        with self.store.read() as conn:
            row = conn.execute(
                text("SELECT * FROM ivr_flows WHERE company = :c AND intent_key = :k"),
                {"c": company, "k": intent_key(intent)},
            ).first()
        if row is None:
            return None
        r = row._mapping
        if r["failures"] > r["successes"]:
            return None  # it keeps failing: navigate afresh
        return LearnedFlow(r["company"], r["intent"],
                           [FlowStep.from_dict(s) for s in json.loads(r["steps"] or "[]")],
                           r["successes"], r["failures"], r["seconds"])

    def save(self, company: str, intent: str, steps: list[FlowStep],
             seconds: float | None = None) -> None:
        """Record a path that reached the queue (replacing a changed one)."""
        if not company or not steps:
            return
        now = time.time()
        body = json.dumps([s.to_dict() for s in steps])
        with self.store.tx() as conn:
            conn.execute(
                text(
                    "INSERT INTO ivr_flows (company, intent, intent_key, steps, successes, "
                    "failures, seconds, created_at, updated_at) "
                    "VALUES (:c, :i, :k, :s, 1, 0, :sec, :now, :now) "
                    "ON CONFLICT (company, intent_key) DO UPDATE SET steps = :s, "
                    "successes = successes + 1, seconds = :sec, updated_at = :now, "
                    "failures = CASE WHEN ivr_flows.steps = :s THEN failures ELSE 0 END"
                ),
                {"c": company, "i": intent, "k": intent_key(intent), "s": body,
                 "sec": seconds, "now": now},
            )

    def record_failure(self, company: str, intent: str) -> None:
        with self.store.tx() as conn:
            conn.execute(
                text("UPDATE ivr_flows SET failures = failures + 1, updated_at = :now "
                     "WHERE company = :c AND intent_key = :k"),
                {"c": company, "k": intent_key(intent), "now": time.time()},
            )

    def all(self, company: str | None = None) -> list[LearnedFlow]:
        sql, params = "SELECT * FROM ivr_flows", {}
        if company:
            sql, params = sql + " WHERE company = :c", {"c": company}
        with self.store.read() as conn:
            rows = [r._mapping for r in conn.execute(text(sql + " ORDER BY id"), params)]
        return [LearnedFlow(r["company"], r["intent"],
                            [FlowStep.from_dict(s) for s in json.loads(r["steps"])],
                            r["successes"], r["failures"], r["seconds"]) for r in rows]
