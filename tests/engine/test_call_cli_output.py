"""``holdslayer call`` without ``--json``: what a person reading the terminal is told."""

from __future__ import annotations

from engine.call_cli import _human, _news
from engine.events import Event, EventType


def quality(call_id: str, grade: str, loss: float) -> Event:
    return Event(EventType.LINE_QUALITY, call_id, {"codec": "PCMU/8000", "loss_pct": loss,
                                                   "jitter_ms": 12.4, "grade": grade})


def test_the_line_is_reported_when_its_grade_changes_not_every_five_seconds() -> None:
    grades: dict[str, str] = {}
    said = [_human(e) for e in (quality("a", "good", 0.0), quality("a", "good", 0.2),
                                quality("a", "poor", 10.6), quality("a", "poor", 9.0),
                                quality("b", "poor", 7.0), quality("a", "good", 0.0))
            if _news(e, grades)]  # fmt: skip
    assert said == ["line good: 0% lost, 12 ms jitter (PCMU/8000)",
                    "line poor: 10.6% lost, 12 ms jitter (PCMU/8000)",
                    "line poor: 7% lost, 12 ms jitter (PCMU/8000)",  # another call
                    "line good: 0% lost, 12 ms jitter (PCMU/8000)"]  # fmt: skip
    assert _news(Event(EventType.HOLD_DETECTED, "a", {}), grades)  # every other event
