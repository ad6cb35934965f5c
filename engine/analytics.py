"""What the history teaches: success rates, hold times and the best time to call.

Everything is one SQL aggregate over indexed columns (``local_dow``/``local_hour`` are
stored at insert), so answers stay well under 100 ms on a 100,000-call history
(``bench/bench_analytics.py``). Rates are fractions 0..1; times are seconds.
"""

from __future__ import annotations

import calendar
import time
import uuid
from typing import Any

from sqlalchemy import text

from engine.store import models as m
from engine.store.database import HistoryStore, local_slot
from engine.store.schema import reindex_call

DEFAULT_MAX_HISTORY = 100_000
MIN_SLOT_SAMPLES = 3  # a day/hour needs this many holds before we call it "best"

_AVERAGES = (
    "COUNT(*) AS total_calls, "
    "SUM(outcome = 'success') AS successes, "
    "SUM(outcome NOT IN ('in_progress')) AS finished, "
    "AVG(hold_seconds) AS avg_hold, "
    "AVG(ivr_seconds) AS avg_ivr, "
    "AVG(total_seconds) AS avg_total"
)


def format_slot(dow: int, hour: int) -> str:
    """(1, 10) -> "Tuesday 10:00 AM"."""
    suffix = "AM" if hour < 12 else "PM"
    return f"{calendar.day_name[dow]} {hour % 12 or 12}:00 {suffix}"


def _rate(successes: Any, finished: Any) -> float:
    return round((successes or 0) / finished, 4) if finished else 0.0


def _sec(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


class CallAnalytics:
    """Read side of the history, plus ``record_call`` for calls made outside the engine."""

    def __init__(
        self,
        store: HistoryStore,
        *,
        max_history: int | None = DEFAULT_MAX_HISTORY,
        min_slot_samples: int = MIN_SLOT_SAMPLES,
    ) -> None:
        self.store = store
        self.max_history = max_history
        self.min_slot_samples = min_slot_samples

    def record_call(
        self,
        company: str,
        number: str = "",
        *,
        intent: str = "",
        started_at: float | None = None,
        outcome: str = m.OUTCOME_SUCCESS,
        hold_time: float | None = None,
        ivr_time: float | None = None,
        total_duration: float | None = None,
        digits: str = "",
        cause: str = "",
        call_id: str | None = None,
    ) -> str:
        """Store one finished call in a single write; returns its call id."""
        if outcome not in m.OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(m.OUTCOMES)}")
        call_id = call_id or uuid.uuid4().hex
        start = time.time() if started_at is None else started_at
        total = total_duration if total_duration is not None else (ivr_time or 0) + (hold_time or 0)
        ended = None if outcome == m.OUTCOME_IN_PROGRESS else start + total
        dow, hour = local_slot(start)
        with self.store.tx() as conn:
            conn.execute(
                text(
                    "INSERT INTO calls (call_id, company, number, intent, target, uri, "
                    "started_at, ended_at, last_event_at, outcome, cause, hold_seconds, "
                    "ivr_seconds, total_seconds, digits, local_dow, local_hour) VALUES "
                    "(:cid, :company, :number, :intent, '', '', :start, :ended, :last, "
                    ":outcome, :cause, :hold, :ivr, :total, :digits, :dow, :hour)"
                ),
                {
                    "cid": call_id,
                    "company": company,
                    "number": number,
                    "intent": intent,
                    "start": start,
                    "ended": ended,
                    "last": ended or start,
                    "outcome": outcome,
                    "cause": cause,
                    "hold": hold_time,
                    "ivr": ivr_time,
                    "total": total if ended is not None else None,
                    "digits": digits,
                    "dow": dow,
                    "hour": hour,
                },
            )
            if company:
                conn.execute(
                    text(
                        "INSERT INTO companies (name, number, first_called_at, last_called_at) "
                        "VALUES (:n, :num, :at, :at) ON CONFLICT (name) DO UPDATE SET "
                        "last_called_at = MAX(COALESCE(last_called_at, 0), :at)"
                    ),
                    {"n": company, "num": number, "at": start},
                )
            reindex_call(conn, call_id)
        if self.max_history:
            self.store.prune(self.max_history)
        return call_id

    def get_summary(self) -> dict[str, Any]:
        with self.store.read() as conn:
            r = conn.execute(text(f"SELECT {_AVERAGES} FROM calls")).one()
        return {
            "total_calls": r.total_calls,
            "success_rate": _rate(r.successes, r.finished),
            "avg_hold_time": _sec(r.avg_hold),
            "avg_ivr_time": _sec(r.avg_ivr),
            "avg_total_duration": _sec(r.avg_total),
        }

    def resolve_company(self, company: str) -> str:
        return self.store.company_name(company)

    def get_company_stats(self, company: str) -> dict[str, Any]:
        name = self.resolve_company(company)
        with self.store.read() as conn:
            r = conn.execute(
                text(
                    f"SELECT {_AVERAGES}, MAX(started_at) AS last_call FROM calls "
                    "WHERE company = :c"
                ),
                {"c": name},
            ).one()
            slot = conn.execute(
                text(
                    "SELECT local_dow AS dow, local_hour AS hour, AVG(hold_seconds) AS avg_hold, "
                    "COUNT(hold_seconds) AS samples FROM calls "
                    "WHERE company = :c AND hold_seconds IS NOT NULL AND local_dow IS NOT NULL "
                    "GROUP BY local_dow, local_hour HAVING COUNT(hold_seconds) >= :min "
                    "ORDER BY avg_hold, samples DESC, local_dow, local_hour LIMIT 1"
                ),
                {"c": name, "min": self.min_slot_samples},
            ).first()
        best = None
        if slot is not None:
            best = {
                "day": calendar.day_name[slot.dow],
                "hour": slot.hour,
                "avg_hold": _sec(slot.avg_hold),
                "samples": slot.samples,
            }
        return {
            "company": name,
            "total_calls": r.total_calls,
            "success_rate": _rate(r.successes, r.finished),
            "avg_hold_time": _sec(r.avg_hold),
            "avg_ivr_time": _sec(r.avg_ivr),
            "avg_total_duration": _sec(r.avg_total),
            "best_time": format_slot(slot.dow, slot.hour) if slot is not None else None,
            "best_slot": best,
            "last_call": r.last_call,
        }

    def get_top_numbers(self, limit: int = 10) -> list[dict[str, Any]]:
        """Most-called numbers first."""
        with self.store.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT number, MAX(company) AS company, COUNT(*) AS calls, "
                    "SUM(outcome = 'success') AS successes, "
                    "SUM(outcome != 'in_progress') AS finished, AVG(hold_seconds) AS avg_hold "
                    "FROM calls WHERE number != '' GROUP BY number "
                    "ORDER BY calls DESC, number LIMIT :n"
                ),
                {"n": limit},
            ).all()
        return [
            {
                "number": r.number,
                "company": r.company,
                "calls": r.calls,
                "success_rate": _rate(r.successes, r.finished),
                "avg_hold_time": _sec(r.avg_hold),
            }
            for r in rows
        ]

    def get_hold_time_trend(self, company: str | None = None) -> list[dict[str, Any]]:
        """Average hold by local hour of day: ``[{"hour": 9, "avg_hold": 320, ...}]``."""
        sql = (
            "SELECT local_hour AS hour, AVG(hold_seconds) AS avg_hold, "
            "COUNT(hold_seconds) AS calls FROM calls "
            "WHERE hold_seconds IS NOT NULL AND local_hour IS NOT NULL"
        )
        params: dict[str, Any] = {}
        if company:
            sql += " AND company = :c"
            params["c"] = self.resolve_company(company)
        sql += " GROUP BY local_hour ORDER BY local_hour"
        with self.store.read() as conn:
            rows = conn.execute(text(sql), params).all()
        return [{"hour": r.hour, "avg_hold": round(r.avg_hold), "calls": r.calls} for r in rows]
