"""How times and outcomes read on screen, in one place so every screen agrees."""

from __future__ import annotations

import time


def clock(seconds: float | None) -> str:
    """92 -> "1:32", 3720 -> "1:02:00"; None -> "—"."""
    if seconds is None:
        return "—"
    s = int(max(0.0, seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def when(ts: float | None) -> str:
    """A call's start, local time: "2026-05-01 14:05"."""
    if not ts:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


OUTCOME_LABELS = {
    "success": "person answered",
    "failed": "failed",
    "hung_up": "hung up",
    "interrupted": "interrupted",
    "in_progress": "in progress",
}


def outcome(value: str | None) -> str:
    return OUTCOME_LABELS.get(value or "", value or "—")


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, an ellipsis showing where it was cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
