"""Analytics against answers worked out by hand on a small seeded history."""

from __future__ import annotations

import time

import pytest

from engine.analytics import CallAnalytics, format_slot
from engine.store import HistoryStore

ACME, TELCO = "+18005550100", "+18005550200"


def at(day: int, hour: int, week: int = 0) -> float:
    """Local time on the week of Monday 2024-02-05 (no DST change in February)."""
    return time.mktime((2024, 2, 5 + day + 7 * week, hour, 5, 0, 0, 0, -1))


MON, TUE, WED, THU, FRI = range(5)


@pytest.fixture
def analytics(store: HistoryStore) -> CallAnalytics:
    a = CallAnalytics(store)
    for week, hold in enumerate((100, 200, 300)):  # Tuesday 10h: avg hold 200, 3 samples
        a.record_call("Acme Bank", ACME, started_at=at(TUE, 10, week), hold_time=hold,
                      ivr_time=30)
    for week, (hold, outcome) in enumerate(((400, "success"), (500, "hung_up"),
                                            (600, "success"))):  # Monday 9h: avg 500
        a.record_call("Acme Bank", ACME, started_at=at(MON, 9, week), hold_time=hold,
                      ivr_time=30, outcome=outcome)
    for week, hold in enumerate((10, 30)):  # Wednesday 14h: shortest, but only 2 samples
        a.record_call("Acme Bank", ACME, started_at=at(WED, 14, week), hold_time=hold,
                      ivr_time=30)
    a.record_call("Acme Bank", ACME, started_at=at(THU, 11), outcome="failed",
                  total_duration=5, cause="Busy Here")
    a.record_call("Telco", TELCO, started_at=at(FRI, 16), hold_time=1000, ivr_time=60)
    a.record_call("Telco", TELCO, started_at=at(FRI, 16, 1), hold_time=2000, ivr_time=60,
                  outcome="hung_up")
    a.record_call("Telco", TELCO, started_at=at(FRI, 17), outcome="interrupted",
                  total_duration=50)
    a.record_call("Telco", TELCO, started_at=at(FRI, 18), outcome="in_progress")
    return a


def test_summary(analytics: CallAnalytics) -> None:
    # 13 calls; 12 finished (one in progress); successes 3 + 2 + 2 + 1 = 8
    # holds: 100+200+300+400+500+600+10+30+1000+2000 = 5140 over 10 -> 514
    # IVR: 8 x 30 + 2 x 60 = 360 over 10 -> 36
    # totals: Acme 130+230+330+430+530+630+40+60+5 = 2385, Telco 1060+2060+50 -> 5555 / 12
    assert analytics.get_summary() == {
        "total_calls": 13,
        "success_rate": round(8 / 12, 4),
        "avg_hold_time": 514.0,
        "avg_ivr_time": 36.0,
        "avg_total_duration": round(5555 / 12, 1),
    }


def test_company_stats_and_best_time(analytics: CallAnalytics) -> None:
    acme = analytics.get_company_stats("acme bank")  # any case
    assert acme["company"] == "Acme Bank"
    assert acme["total_calls"] == 9
    assert acme["success_rate"] == round(7 / 9, 4)
    assert acme["avg_hold_time"] == 267.5  # 2140 / 8
    assert acme["avg_ivr_time"] == 30.0
    assert acme["avg_total_duration"] == 265.0  # 2385 / 9
    assert acme["best_time"] == "Tuesday 10:00 AM"
    assert acme["best_slot"] == {"day": "Tuesday", "hour": 10, "avg_hold": 200.0, "samples": 3}
    telco = analytics.get_company_stats("Telco")
    assert telco["total_calls"] == 4 and telco["success_rate"] == round(1 / 3, 4)
    assert telco["best_time"] is None  # two samples at Friday 16h are not enough
    nobody = analytics.get_company_stats("Nobody Inc")
    assert nobody["total_calls"] == 0 and nobody["success_rate"] == 0.0
    assert nobody["best_time"] is None and nobody["avg_hold_time"] is None


def test_top_numbers(analytics: CallAnalytics) -> None:
    top = analytics.get_top_numbers(5)
    assert [(n["number"], n["company"], n["calls"]) for n in top] == [
        (ACME, "Acme Bank", 9),
        (TELCO, "Telco", 4),
    ]
    assert top[1]["success_rate"] == round(1 / 3, 4) and top[1]["avg_hold_time"] == 1500.0
    assert len(analytics.get_top_numbers(1)) == 1


def test_hold_time_trend(analytics: CallAnalytics) -> None:
    assert analytics.get_hold_time_trend() == [
        {"hour": 9, "avg_hold": 500, "calls": 3},
        {"hour": 10, "avg_hold": 200, "calls": 3},
        {"hour": 14, "avg_hold": 20, "calls": 2},
        {"hour": 16, "avg_hold": 1500, "calls": 2},
    ]
    assert analytics.get_hold_time_trend("TELCO") == [{"hour": 16, "avg_hold": 1500, "calls": 2}]


def test_max_history_bounds_what_is_kept(store: HistoryStore) -> None:
    a = CallAnalytics(store, max_history=5)
    ids = [a.record_call("Acme", ACME, started_at=at(MON, 9, w), hold_time=60) for w in range(7)]
    assert a.get_summary()["total_calls"] == 5
    assert {c["call_id"] for c in store.list_calls()} == set(ids[2:])


def test_bad_outcome_and_slot_format(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        CallAnalytics(store).record_call("Acme", outcome="great")
    assert format_slot(0, 0) == "Monday 12:00 AM"
    assert format_slot(6, 12) == "Sunday 12:00 PM"
    assert format_slot(1, 15) == "Tuesday 3:00 PM"
