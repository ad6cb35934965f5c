"""The history file: WAL, versioned, and upgraded from an older release without losing rows."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from engine.store import HistoryStore
from engine.store.schema import SCHEMA_VERSION

# The layout release v1 wrote (see engine/store/schema.py), byte for byte as it created it.
V1_DDL = """
CREATE TABLE calls (
    id INTEGER NOT NULL PRIMARY KEY,
    call_id VARCHAR NOT NULL UNIQUE,
    company VARCHAR NOT NULL,
    number VARCHAR NOT NULL,
    intent VARCHAR NOT NULL,
    started_at FLOAT NOT NULL,
    answered_at FLOAT,
    ended_at FLOAT,
    outcome VARCHAR NOT NULL,
    hold_seconds FLOAT,
    total_seconds FLOAT
);
CREATE TABLE ivr_steps (
    id INTEGER NOT NULL PRIMARY KEY,
    call_id VARCHAR NOT NULL REFERENCES calls (call_id),
    at FLOAT NOT NULL,
    node_id VARCHAR NOT NULL,
    transcript VARCHAR NOT NULL,
    chosen VARCHAR NOT NULL
);
CREATE TABLE transcript_chunks (
    id INTEGER NOT NULL PRIMARY KEY,
    call_id VARCHAR NOT NULL REFERENCES calls (call_id),
    at FLOAT NOT NULL,
    text VARCHAR NOT NULL,
    speaker VARCHAR NOT NULL
);
PRAGMA user_version = 1;
"""

# Tuesday 2024-03-05 10:15 local time, whatever the machine's zone.
TUESDAY_10 = time.mktime((2024, 3, 5, 10, 15, 0, 0, 0, -1))


def make_v1_file(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(V1_DDL)
    con.executemany(
        "INSERT INTO calls (call_id, company, number, intent, started_at, answered_at, "
        "ended_at, outcome, hold_seconds, total_seconds) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            ("old-1", "Acme Bank", "+18005550100", "billing", TUESDAY_10, TUESDAY_10 + 5,
             TUESDAY_10 + 905, "success", 600.0, 905.0),
            ("old-2", "Acme Bank", "+18005550100", "", TUESDAY_10 + 86400, None,
             TUESDAY_10 + 86410, "failed", None, 10.0),
            # v1 never finished this one: the app died mid-call
            ("old-3", "Telco", "+18005550200", "", TUESDAY_10 + 2 * 86400,
             TUESDAY_10 + 2 * 86400 + 3, None, "in_progress", None, None),
        ],
    )
    con.execute(
        "INSERT INTO ivr_steps (call_id, at, node_id, transcript, chosen) VALUES (?,?,?,?,?)",
        ("old-1", TUESDAY_10 + 20, "main", "For billing press 2", "2"),
    )
    con.execute(
        "INSERT INTO transcript_chunks (call_id, at, text, speaker) VALUES (?,?,?,?)",
        ("old-1", TUESDAY_10 + 900, "this is Dana how can I help", "agent"),
    )
    con.commit()
    con.close()


def test_fresh_file_is_wal_and_current(db_path: Path) -> None:
    with HistoryStore(db_path) as store:
        assert store.upgraded_from == 0
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "calls", "ivr_steps", "transcript_chunks", "recordings", "companies", "call_flows",
        "notifications",
    } <= tables
    con.close()


def test_v1_file_upgrades_without_losing_rows(db_path: Path) -> None:
    make_v1_file(db_path)
    with HistoryStore(db_path) as store:
        assert store.upgraded_from == 1
        assert store.recovered == 1  # old-3 had no end
        old1 = store.get_call("old-1")
        assert old1 is not None
        assert (old1["company"], old1["outcome"], old1["hold_seconds"]) == (
            "Acme Bank", "success", 600.0,
        )
        assert (old1["local_dow"], old1["local_hour"]) == (1, 10)  # Tuesday, 10h local
        assert old1["ivr_steps"][0]["transcript"] == "For billing press 2"
        assert old1["ivr_steps"][0]["options"] == []
        assert old1["transcript"][0]["text"] == "this is Dana how can I help"
        assert old1["codec"] == "" and old1["rx_loss_pct"] is None  # v3: not measured then
        old3 = store.get_call("old-3")
        assert old3 is not None
        assert old3["outcome"] == "interrupted"
        assert old3["ended_at"] == pytest.approx(TUESDAY_10 + 2 * 86400 + 3)
        assert len(store.list_calls(limit=10)) == 3
        # the search index was built from the old rows: menu prompt, transcript, company
        assert [c["call_id"] for c in store.list_calls(search="billing pre")] == ["old-1"]
        assert [c["call_id"] for c in store.list_calls(search="DANA")] == ["old-1"]
        assert [c["call_id"] for c in store.list_calls(search="telco")] == ["old-3"]
        assert store.company_name("acme bank") == "Acme Bank"  # companies backfilled
        # the new tables work on the upgraded file
        store.add_recording("old-1", TUESDAY_10 + 905, path="/r/old-1.wav", kind="mixed")
        store.add_notification(
            call_id="old-1", event_type="HUMAN_DETECTED", channel="webhook",
            priority="CRITICAL", title="x", status="sent", attempts=1,
        )
        assert store.get_call("old-1")["recordings"][0]["path"] == "/r/old-1.wav"
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "ix_calls_company_slot" in indexes
    con.close()
    # opening again is a no-op
    with HistoryStore(db_path) as store:
        assert store.upgraded_from == SCHEMA_VERSION
        assert store.recovered == 0


def test_newer_file_is_refused(db_path: Path) -> None:
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(RuntimeError, match="newer than this app"):
        HistoryStore(db_path)


def test_prune_keeps_newest(store: HistoryStore) -> None:
    for i in range(5):
        store.start_call(f"c{i}", at=1000.0 + i, company="Acme")
        store.add_transcript_chunk(f"c{i}", 1000.5 + i, text_="hi")
    assert store.prune(2) == 3
    assert [c["call_id"] for c in store.list_calls()] == ["c4", "c3"]
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM transcript_chunks").scalar() == 2
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM call_search").scalar() == 2
    # FTS syntax typed by a user is plain words, never an error
    assert store.list_calls(search='hi OR "x" NEAR(') == []
    assert len(store.list_calls(search='"hi" acme*')) == 2
    assert store.list_calls(search="!!!") == []
