"""``holdslayer history`` and ``holdslayer stats``: the history, headless and scriptable."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from engine.analytics import CallAnalytics
from engine.sip.line_quality import summary
from engine.store.database import HistoryStore
from engine.store.models import so_far
from engine.store.paths import DB_ENV


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    h = subparsers.add_parser(
        "history",
        help="list past calls",
        description=f"List past calls, newest first (database: ${DB_ENV} or the user data dir).",
    )
    h.add_argument("--json", action="store_true", help="print a JSON array")
    h.add_argument("--limit", type=int, default=20, help="at most N calls (default 20)")
    h.add_argument("--company", help="only calls to this company (any case)")
    h.add_argument("--search", metavar="TEXT", help="match company, number, intent, transcript")
    h.add_argument("--call", metavar="CALL_ID", help="one call in full: menu, transcript, alerts")
    h.set_defaults(func=run_history)

    s = subparsers.add_parser(
        "stats", help="hold times, success rates, best time to call", description=__doc__
    )
    s.add_argument("--company", metavar="NAME", help="one company, with its best time to call")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=run_stats)


def _dump(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, sec = divmod(int(round(seconds)), 60)
    return f"{minutes}:{sec:02d}"


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def run_history(args: argparse.Namespace) -> int:
    with HistoryStore() as store:
        if args.call:
            call = store.get_call(args.call)
            if call is None:
                print(f"no call {args.call!r} in {store.path}", file=sys.stderr)
                return 1
            if args.json:
                _dump(call)
            else:
                _print_call(call)
            return 0
        calls = store.list_calls(limit=args.limit, company=args.company, search=args.search)
    if args.json:
        _dump(calls)
        return 0
    if not calls:
        print("no calls yet")
        return 0
    print(f"{'started':16}  {'company':20} {'number':16} {'outcome':11} {'hold':>6} {'total':>6}")
    for c in calls:
        hold, total = so_far(c)
        print(
            f"{_when(c['started_at']):16}  {c['company'][:20]:20} {c['number'][:16]:16} "
            f"{c['outcome']:11} {_dur(hold):>6} {_dur(total):>6}"
        )
    return 0


def _print_call(call: dict[str, Any]) -> None:
    print(f"{call['company'] or call['target'] or call['call_id']}  {call['number']}")
    print(f"  started {_when(call['started_at'])}, {call['outcome']}", end="")
    print(f" ({call['cause']})" if call["cause"] else "")
    hold, total = so_far(call)
    print(
        f"  menu {_dur(call['ivr_seconds'])}, hold {_dur(hold)}, "
        f"total {_dur(total)}, digits {call['digits'] or '-'}"
    )
    if call.get("codec"):
        print(f"  line {summary(call['codec'], call.get('rx_loss_pct'))}")
    for step in call["ivr_steps"]:
        print(f"  menu {step['node_id']}: {step['transcript']!r} -> {step['chosen']}")
    for chunk in call["transcript"]:
        print(f"  [{chunk['speaker'] or '?'}] {chunk['text']}")
    for rec in call["recordings"]:
        print(f"  recording ({rec['kind']}): {rec['path']}")
    for note in call["notifications"]:
        print(f"  notified {note['channel']}: {note['status']} {note['title']!r}")


def run_stats(args: argparse.Namespace) -> int:
    with HistoryStore() as store:
        analytics = CallAnalytics(store, max_history=None)
        if args.company:
            stats = analytics.get_company_stats(args.company)
            stats["hold_time_trend"] = analytics.get_hold_time_trend(args.company)
            if args.json:
                _dump(stats)
            else:
                _print_company(stats)
            return 0
        out = analytics.get_summary()
        out["top_numbers"] = analytics.get_top_numbers(10)
        out["hold_time_trend"] = analytics.get_hold_time_trend()
    if args.json:
        _dump(out)
        return 0
    print(
        f"{out['total_calls']} calls, {_pct(out['success_rate'])} reached a person; "
        f"average menu {_dur(out['avg_ivr_time'])}, hold {_dur(out['avg_hold_time'])}, "
        f"call {_dur(out['avg_total_duration'])}"
    )
    for n in out["top_numbers"]:
        print(
            f"  {n['number']:16} {n['company'][:24]:24} {n['calls']:5} calls, "
            f"{_pct(n['success_rate'])}, hold {_dur(n['avg_hold_time'])}"
        )
    return 0


def _print_company(stats: dict[str, Any]) -> None:
    print(
        f"{stats['company']}: {stats['total_calls']} calls, "
        f"{_pct(stats['success_rate'])} reached a person, "
        f"average hold {_dur(stats['avg_hold_time'])}"
    )
    if stats["best_time"]:
        slot = stats["best_slot"]
        print(
            f"  best time to call: {stats['best_time']} "
            f"(average hold {_dur(slot['avg_hold'])} over {slot['samples']} calls)"
        )
    else:
        print("  best time to call: not enough calls yet")
    for point in stats["hold_time_trend"]:
        print(f"  {point['hour']:02d}:00  hold {_dur(point['avg_hold'])} ({point['calls']} calls)")
