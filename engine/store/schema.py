"""Schema versions and upgrades, tracked in SQLite's ``PRAGMA user_version``.

Why not just ``create_all``: it adds missing tables but never missing columns, so a user's
file from an older release would break the newer app. Each step below moves a file one
version forward inside a transaction; rows are never dropped.

History of the layout:
  v1 — calls (company, number, intent, started/answered/ended, outcome, hold and total
       seconds), ivr_steps (node_id, transcript, chosen), transcript_chunks (text, speaker).
  v2 — calls gain target/uri, hold/human/transfer times, cause, SIP code, IVR seconds,
       digits, local day/hour and owner pid; ivr_steps gain options/reason; transcript
       chunks gain start/end; new tables recordings, companies, call_flows, notifications,
       and the full-text index call_search.
  v3 — calls gain codec and rx_loss_pct (the line: why a transcript was garbled).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, text
from sqlmodel import SQLModel

from engine.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)

SCHEMA_VERSION = 3

# Indexes live here, not on the models, so an upgraded file gets exactly the same ones.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_calls_started ON calls (started_at)",
    "CREATE INDEX IF NOT EXISTS ix_calls_company_started ON calls (company, started_at)",
    "CREATE INDEX IF NOT EXISTS ix_calls_company_slot "
    "ON calls (company, local_dow, local_hour, hold_seconds)",
    "CREATE INDEX IF NOT EXISTS ix_calls_number ON calls (number, company, outcome, hold_seconds)",
    "CREATE INDEX IF NOT EXISTS ix_calls_hour ON calls (local_hour, hold_seconds)",
    "CREATE INDEX IF NOT EXISTS ix_calls_open ON calls (ended_at) WHERE ended_at IS NULL",
    "CREATE INDEX IF NOT EXISTS ix_ivr_steps_call ON ivr_steps (call_id)",
    "CREATE INDEX IF NOT EXISTS ix_transcript_call ON transcript_chunks (call_id)",
    "CREATE INDEX IF NOT EXISTS ix_recordings_call ON recordings (call_id)",
    "CREATE INDEX IF NOT EXISTS ix_flows_company ON call_flows (company, intent, digits)",
    "CREATE INDEX IF NOT EXISTS ix_notifications_call ON notifications (call_id)",
)


# Full-text search over each call (company, number, intent, cause, menu prompts, transcript):
# one document per call, rowid = calls.id, so `holdslayer history --search` stays fast on a
# big history and pruning a call is a rowid delete.
SEARCH_DDL = (
    "CREATE VIRTUAL TABLE call_search USING fts5(body, tokenize='unicode61 remove_diacritics 2')"
)
_SEARCH_DOC = (
    "SELECT c.id, c.company || ' ' || c.number || ' ' || c.intent || ' ' || c.target || ' ' || "
    "c.cause || ' ' || "
    "COALESCE((SELECT group_concat(s.transcript, ' ') FROM ivr_steps s "
    "WHERE s.call_id = c.call_id), '') || ' ' || "
    "COALESCE((SELECT group_concat(t.text, ' ') FROM transcript_chunks t "
    "WHERE t.call_id = c.call_id), '') FROM calls c"
)


def reindex_call(conn: Connection, call_id: str) -> None:
    """Rebuild one call's search document (after any text about it changed)."""
    row_id = conn.execute(text("SELECT id FROM calls WHERE call_id = :c"), {"c": call_id}).scalar()
    if row_id is None:
        return
    conn.execute(text("DELETE FROM call_search WHERE rowid = :id"), {"id": row_id})
    conn.execute(
        text(f"INSERT INTO call_search (rowid, body) {_SEARCH_DOC} WHERE c.id = :id"),
        {"id": row_id},
    )


def rebuild_search(conn: Connection) -> None:
    """Index every call (a new or upgraded file, or after a bulk import)."""
    conn.exec_driver_sql("DELETE FROM call_search")
    conn.exec_driver_sql(f"INSERT INTO call_search (rowid, body) {_SEARCH_DOC}")


def _columns(conn: Connection, table: str) -> set[str]:
    return {row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    present = _columns(conn, table)
    for name, decl in columns.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")


def _v1_to_v2(conn: Connection) -> None:
    _add_columns(
        conn,
        "calls",
        {
            "target": "VARCHAR NOT NULL DEFAULT ''",
            "uri": "VARCHAR NOT NULL DEFAULT ''",
            "hold_started_at": "FLOAT",
            "human_at": "FLOAT",
            "transferred_at": "FLOAT",
            "last_event_at": "FLOAT",
            "cause": "VARCHAR NOT NULL DEFAULT ''",
            "sip_code": "INTEGER",
            "ivr_seconds": "FLOAT",
            "digits": "VARCHAR NOT NULL DEFAULT ''",
            "local_dow": "INTEGER",
            "local_hour": "INTEGER",
            "owner_pid": "INTEGER",
        },
    )
    # Day/hour in local time, Monday = 0 like Python's weekday().
    conn.execute(
        text(
            "UPDATE calls SET "
            "local_dow = (CAST(strftime('%w', started_at, 'unixepoch', 'localtime') AS INTEGER)"
            " + 6) % 7, "
            "local_hour = CAST(strftime('%H', started_at, 'unixepoch', 'localtime') AS INTEGER), "
            "last_event_at = COALESCE(ended_at, answered_at, started_at)"
        )
    )
    _add_columns(
        conn,
        "ivr_steps",
        {"options": "VARCHAR NOT NULL DEFAULT '[]'", "reason": "VARCHAR NOT NULL DEFAULT ''"},
    )
    _add_columns(conn, "transcript_chunks", {"start": "FLOAT", "end": "FLOAT"})
    SQLModel.metadata.create_all(conn)  # the tables v2 introduced
    conn.execute(
        text(
            "INSERT OR IGNORE INTO companies (name, number, first_called_at, last_called_at) "
            "SELECT company, MAX(number), MIN(started_at), MAX(started_at) FROM calls "
            "WHERE company != '' GROUP BY company"
        )
    )


def _v2_to_v3(conn: Connection) -> None:
    _add_columns(conn, "calls", {"codec": "VARCHAR NOT NULL DEFAULT ''", "rx_loss_pct": "FLOAT"})


UPGRADES: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}


def user_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def migrate(conn: Connection) -> int:
    """Bring the file to SCHEMA_VERSION; returns the version it had before."""
    found = user_version(conn)
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"history database has schema v{found}, newer than this app (v{SCHEMA_VERSION}); "
            "upgrade Hold Slayer"
        )
    if found == 0 and "calls" not in _table_names(conn):
        SQLModel.metadata.create_all(conn)
    else:
        version = max(found, 1)  # a file with tables but no version stamp is v1
        while version < SCHEMA_VERSION:
            UPGRADES[version](conn)
            version += 1
    for ddl in INDEXES:
        conn.exec_driver_sql(ddl)
    if "call_search" not in _table_names(conn):
        conn.exec_driver_sql(SEARCH_DDL)
        rebuild_search(conn)
    conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found


def _table_names(conn: Connection) -> set[str]:
    rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}
