"""How fast analytics answer on a big history: seeds 100,000 calls into a temporary SQLite
file and prints each query's median time. Target: well under 100 ms each.

    .venv/bin/python bench/bench_analytics.py [--calls N] [--runs R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from engine.analytics import CallAnalytics
from engine.store import HistoryStore
from engine.store.database import local_slot
from engine.store.models import Call, Company
from engine.store.schema import rebuild_search

COMPANIES = [f"Company {i:03d}" for i in range(200)]
OUTCOMES = ["success"] * 6 + ["hung_up"] * 2 + ["failed", "interrupted"]


def seed(store: HistoryStore, n: int, rng: random.Random) -> None:
    """Bulk insert (one transaction) of realistic-looking finished calls over a year."""
    now = time.time()
    numbers = {c: f"+1800555{i:04d}" for i, c in enumerate(COMPANIES)}
    rows: list[dict[str, Any]] = []
    for i in range(n):
        company = rng.choice(COMPANIES)
        start = now - rng.uniform(0, 365 * 86400)
        outcome = rng.choice(OUTCOMES)
        hold = rng.uniform(0, 3600) if outcome in ("success", "hung_up") else None
        ivr = rng.uniform(10, 240) if outcome != "failed" else None
        total = (hold or 0) + (ivr or 0) + rng.uniform(0, 600)
        dow, hour = local_slot(start)
        rows.append(
            dict(
                call_id=f"bench-{i}",
                company=company,
                number=numbers[company],
                intent="billing",
                started_at=start,
                ended_at=start + total,
                last_event_at=start + total,
                outcome=outcome,
                hold_seconds=hold,
                ivr_seconds=ivr,
                total_seconds=total,
                digits="1 2",
                local_dow=dow,
                local_hour=hour,
            )
        )
    with store.tx() as conn:
        conn.execute(insert(Call), rows)
        conn.execute(insert(Company), [{"name": c, "number": numbers[c]} for c in COMPANIES])
        rebuild_search(conn)
        conn.exec_driver_sql("ANALYZE")


def timed(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm the page cache once, as a running app would be
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = HistoryStore(Path(tmp) / "bench.sqlite3")
        t0 = time.perf_counter()
        seed(store, args.calls, random.Random(5))
        print(f"seeded {args.calls:,} calls in {time.perf_counter() - t0:.1f} s")
        analytics = CallAnalytics(store, max_history=None)
        queries: dict[str, Callable[[], Any]] = {
            "get_summary()": analytics.get_summary,
            "get_company_stats('Company 042')": lambda: analytics.get_company_stats("Company 042"),
            "get_company_stats('company 042') (any case)": lambda: analytics.get_company_stats(
                "company 042"
            ),
            "get_top_numbers(10)": lambda: analytics.get_top_numbers(10),
            "get_hold_time_trend()": analytics.get_hold_time_trend,
            "get_hold_time_trend('Company 042')": lambda: analytics.get_hold_time_trend(
                "Company 042"
            ),
            "list_calls(limit=50)": lambda: store.list_calls(limit=50),
            "list_calls(company=..., limit=50)": lambda: store.list_calls(
                company="Company 042", limit=50
            ),
            "list_calls(search='no such text')": lambda: store.list_calls(
                search="no such text", limit=50
            ),
            "list_calls(search='company 04')": lambda: store.list_calls(
                search="company 04", limit=50
            ),
            "record_call(...) incl. prune at 100k": lambda: CallAnalytics(
                store, max_history=args.calls
            ).record_call("Company 001", "+18005550001", hold_time=60, ivr_time=30),
        }
        worst = 0.0
        for name, fn in queries.items():
            ms = timed(fn, args.runs)
            worst = max(worst, ms)
            print(f"{name:48s} {ms:8.2f} ms")
        store.close()
    print(f"slowest: {worst:.2f} ms (target < 100 ms)")
    return 0 if worst < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
