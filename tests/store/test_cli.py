"""``holdslayer history`` and ``holdslayer stats`` on a real history file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.analytics import CallAnalytics
from engine.cli import main
from engine.store import HistoryStore


def tuesday_10(week: int) -> float:
    return time.mktime((2024, 2, 6 + 7 * week, 10, 0, 0, 0, 0, -1))


@pytest.fixture
def seeded(db_path: Path) -> Path:
    with HistoryStore(db_path) as store:
        a = CallAnalytics(store)
        for week in range(3):
            a.record_call("Acme Bank", "+18005550100", started_at=tuesday_10(week),
                          hold_time=300 + week, ivr_time=40, call_id=f"acme-{week}")
        a.record_call("Telco", "+18005550200", started_at=tuesday_10(4), outcome="failed",
                      total_duration=3, call_id="telco-0", cause="Busy Here")
        store.add_transcript_chunk("acme-1", tuesday_10(1) + 350, text_="this is Dana")
        store.update_call("acme-1", codec="PCMU/8000", rx_loss_pct=10.6)
    return db_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_history_json_filters(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls = json.loads(run(capsys, "history", "--json"))
    assert [c["call_id"] for c in calls] == ["telco-0", "acme-2", "acme-1", "acme-0"]
    assert json.loads(run(capsys, "history", "--json", "--limit", "1"))[0]["call_id"] == "telco-0"
    acme = json.loads(run(capsys, "history", "--json", "--company", "acme bank"))
    assert {c["company"] for c in acme} == {"Acme Bank"} and len(acme) == 3
    found = json.loads(run(capsys, "history", "--json", "--search", "dana"))
    assert [c["call_id"] for c in found] == ["acme-1"]
    one = json.loads(run(capsys, "history", "--json", "--call", "acme-1"))
    assert one["transcript"][0]["text"] == "this is Dana"
    assert (one["codec"], one["rx_loss_pct"]) == ("PCMU/8000", 10.6)


def test_history_text(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "history")
    assert "Acme Bank" in out and "failed" in out and "5:00" in out
    one = run(capsys, "history", "--call", "acme-1")
    assert "this is Dana" in one and "line PCMU/8000, 10.6% of the audio lost" in one
    assert "line " not in run(capsys, "history", "--call", "acme-0")  # not measured
    assert main(["history", "--call", "nope"]) == 1


def test_stats(seeded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = json.loads(run(capsys, "stats", "--json"))
    assert summary["total_calls"] == 4 and summary["success_rate"] == 0.75
    assert summary["top_numbers"][0]["number"] == "+18005550100"
    assert summary["hold_time_trend"] == [{"hour": 10, "avg_hold": 301, "calls": 3}]
    acme = json.loads(run(capsys, "stats", "--company", "ACME BANK", "--json"))
    assert acme["best_time"] == "Tuesday 10:00 AM" and acme["total_calls"] == 3
    text_out = run(capsys, "stats", "--company", "Acme Bank")
    assert "best time to call: Tuesday 10:00 AM" in text_out
    assert "4 calls, 75% reached a person" in run(capsys, "stats")


def test_console_script_uses_env_path(seeded: Path) -> None:
    """The real entry point in a fresh process honours HOLDSLAYER_DB_PATH."""
    env = dict(os.environ, HOLDSLAYER_DB_PATH=str(seeded))
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "stats", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert json.loads(out)["total_calls"] == 4


def test_the_data_dir_holds_the_history_too(seeded: Path, tmp_path: Path) -> None:
    """HOLDSLAYER_DATA_DIR moves everything Hold Slayer keeps, the history file included: a
    second profile (or a test) set up that way must not read the user's calls and learned
    menus from the default place."""
    data = tmp_path / "other-profile"
    data.mkdir()
    seeded.rename(data / "history.sqlite3")
    env = {k: v for k, v in os.environ.items() if k != "HOLDSLAYER_DB_PATH"}
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "stats", "--json"],
        env={**env, "HOLDSLAYER_DATA_DIR": str(data)}, capture_output=True, text=True,
        timeout=60, check=True,
    ).stdout
    assert json.loads(out)["total_calls"] == 4


def test_empty_history(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "history") == "no calls yet\n"
    assert json.loads(run(capsys, "history", "--json")) == []
    assert "0 calls" in run(capsys, "stats")
