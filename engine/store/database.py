"""The history database: one SQLite file in WAL mode, written as events happen.

Why WAL + ``synchronous=NORMAL``: each event is its own small transaction, so a killed
process loses nothing it already committed, and readers (``holdslayer history`` while a
call runs) never block the writer. Writes within the process go through one lock so the
recorder and notifier threads never trip over SQLite's single-writer rule.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, insert, text, update
from sqlalchemy.engine import Row

from engine.store import models as m
from engine.store.paths import default_db_path
from engine.store.schema import migrate, reindex_call

log = logging.getLogger(__name__)


def local_slot(ts: float) -> tuple[int, int]:
    """(weekday with Monday = 0, hour) in local time: the unit of "best time to call"."""
    t = time.localtime(ts)
    return t.tm_wday, t.tm_hour


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _make_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": 10},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (so DDL in a
        # migration is transactional too).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front so a read-then-write never hits SQLITE_BUSY.
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class HistoryStore:
    """Calls, IVR steps, transcripts, recordings, companies, learned flows and notifications."""

    def __init__(self, path: Path | str | None = None, *, recover: bool = True) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = _make_engine(self.path)
        self._lock = threading.RLock()
        with self.tx() as conn:
            self.upgraded_from = migrate(conn)
        self.recovered = self.recover_interrupted() if recover else 0

    # -- plumbing ---------------------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator[Connection]:
        with self._lock, self.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recovery ---------------------------------------------------------------------
    def recover_interrupted(self) -> int:
        """Mark calls whose writing process is gone as interrupted; returns how many.

        A call still owned by a live process (another window running a call) is left alone.
        """
        with self.tx() as conn:
            rows = conn.execute(
                text("SELECT call_id, owner_pid FROM calls WHERE ended_at IS NULL")
            ).all()
            dead = [r.call_id for r in rows if not pid_alive(r.owner_pid)]
            for call_id in dead:
                conn.execute(
                    text(
                        "UPDATE calls SET outcome = :o, cause = CASE WHEN cause = '' "
                        "THEN 'app stopped mid-call' ELSE cause END, "
                        "ended_at = COALESCE(last_event_at, started_at), "
                        "total_seconds = COALESCE(last_event_at, started_at) - started_at "
                        "WHERE call_id = :c"
                    ),
                    {"o": m.OUTCOME_INTERRUPTED, "c": call_id},
                )
                reindex_call(conn, call_id)
        if dead:
            log.info("marked %d interrupted call(s) in %s", len(dead), self.path)
        return len(dead)

    # -- writes -----------------------------------------------------------------------
    def start_call(
        self,
        call_id: str,
        *,
        at: float,
        company: str = "",
        number: str = "",
        intent: str = "",
        target: str = "",
        uri: str = "",
    ) -> None:
        """Insert the call row (idempotent: a repeated start only fills blanks)."""
        dow, hour = local_slot(at)
        with self.tx() as conn:
            conn.execute(
                text(
                    "INSERT INTO calls (call_id, company, number, intent, target, uri, "
                    "started_at, last_event_at, outcome, cause, digits, local_dow, local_hour, "
                    "owner_pid) VALUES (:call_id, :company, :number, :intent, :target, :uri, "
                    ":at, :at, :outcome, '', '', :dow, :hour, :pid) "
                    "ON CONFLICT (call_id) DO UPDATE SET "
                    "company = CASE WHEN company = '' THEN excluded.company ELSE company END, "
                    "number = CASE WHEN number = '' THEN excluded.number ELSE number END, "
                    "intent = CASE WHEN intent = '' THEN excluded.intent ELSE intent END, "
                    "target = CASE WHEN target = '' THEN excluded.target ELSE target END, "
                    "uri = CASE WHEN uri = '' THEN excluded.uri ELSE uri END"
                ),
                {
                    "call_id": call_id,
                    "company": company,
                    "number": number,
                    "intent": intent,
                    "target": target,
                    "uri": uri,
                    "at": at,
                    "outcome": m.OUTCOME_IN_PROGRESS,
                    "dow": dow,
                    "hour": hour,
                    "pid": os.getpid(),
                },
            )
            if company:
                conn.execute(
                    text(
                        "INSERT INTO companies (name, number, first_called_at, last_called_at) "
                        "VALUES (:name, :number, :at, :at) ON CONFLICT (name) DO UPDATE SET "
                        "last_called_at = "
                        "MAX(COALESCE(last_called_at, 0), excluded.last_called_at), "
                        "number = CASE WHEN excluded.number != '' THEN excluded.number "
                        "ELSE number END"
                    ),
                    {"name": company, "number": number, "at": at},
                )
            reindex_call(conn, call_id)

    def ensure_call(self, call_id: str, at: float) -> None:
        """A call first heard mid-way (recorder attached late) still gets a row."""
        with self.read() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM calls WHERE call_id = :c"), {"c": call_id}
            ).first()
        if not exists:
            self.start_call(call_id, at=at)

    def update_call(self, call_id: str, at: float | None = None, **fields: Any) -> None:
        """Set columns on a call; ``at`` also advances ``last_event_at``."""
        values = dict(fields)
        if at is not None:
            values["last_event_at"] = at
        if not values:
            return
        with self.tx() as conn:
            conn.execute(update(m.Call).where(m.Call.call_id == call_id).values(**values))
            if fields.keys() & {"company", "number", "intent", "target", "cause"}:
                reindex_call(conn, call_id)

    def set_if_null(self, call_id: str, column: str, value: Any, at: float) -> None:
        """First occurrence wins (first hold, first human), later repeats don't move it."""
        if column not in m.Call.model_fields:
            raise ValueError(column)
        with self.tx() as conn:
            conn.execute(
                text(
                    f"UPDATE calls SET {column} = COALESCE({column}, :v), "
                    "last_event_at = :at WHERE call_id = :c"
                ),
                {"v": value, "at": at, "c": call_id},
            )

    def append_digits(self, call_id: str, digits: str, at: float) -> None:
        with self.tx() as conn:
            conn.execute(
                text(
                    "UPDATE calls SET digits = CASE WHEN digits = '' THEN :d "
                    "ELSE digits || ' ' || :d END, last_event_at = :at WHERE call_id = :c"
                ),
                {"d": digits, "at": at, "c": call_id},
            )

    def _insert_child(
        self, model: type, call_id: str, at: float, *, searchable: bool = False, **values: Any
    ) -> None:
        with self.tx() as conn:
            conn.execute(insert(model).values(call_id=call_id, at=at, **values))
            conn.execute(
                text("UPDATE calls SET last_event_at = :at WHERE call_id = :c"),
                {"at": at, "c": call_id},
            )
            if searchable:
                reindex_call(conn, call_id)

    def add_ivr_step(
        self,
        call_id: str,
        at: float,
        *,
        node_id: str = "",
        transcript: str = "",
        options: Any = None,
        chosen: str = "",
        reason: str = "",
    ) -> None:
        self._insert_child(
            m.IvrStep,
            call_id,
            at,
            searchable=bool(transcript),
            node_id=node_id,
            transcript=transcript,
            options=json.dumps(options if options is not None else [], default=str),
            chosen=chosen,
            reason=reason,
        )

    def add_transcript_chunk(
        self,
        call_id: str,
        at: float,
        *,
        text_: str,
        speaker: str = "",
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        self._insert_child(
            m.TranscriptChunk,
            call_id,
            at,
            searchable=bool(text_),
            text=text_,
            speaker=speaker,
            start=start,
            end=end,
        )

    def add_recording(
        self,
        call_id: str,
        at: float,
        *,
        path: str,
        kind: str = "",
        duration: float | None = None,
        file_size: int | None = None,
    ) -> None:
        self._insert_child(
            m.Recording, call_id, at, path=path, kind=kind, duration=duration, file_size=file_size
        )

    def add_notification(
        self,
        *,
        call_id: str,
        event_type: str,
        channel: str,
        priority: str,
        title: str,
        status: str,
        attempts: int,
        error: str = "",
        target: str = "",
        at: float | None = None,
    ) -> None:
        """What was sent, or failed after its retries, on which channel (never secrets)."""
        with self.tx() as conn:
            conn.execute(
                insert(m.NotificationLog).values(
                    call_id=call_id,
                    at=time.time() if at is None else at,
                    event_type=event_type,
                    channel=channel,
                    target=target,
                    priority=priority,
                    title=title,
                    status=status,
                    attempts=attempts,
                    error=error[:500],
                )
            )

    def learn_flow(
        self, company: str, digits: str, *, intent: str = "", nodes: list[str], at: float
    ) -> None:
        """Count a digit path that reached a person, so the navigator can replay it."""
        if not company or not digits:
            return
        with self.tx() as conn:
            row = conn.execute(
                text(
                    "SELECT id FROM call_flows WHERE company = :c AND intent = :i AND digits = :d"
                ),
                {"c": company, "i": intent, "d": digits},
            ).first()
            if row:
                conn.execute(
                    text(
                        "UPDATE call_flows SET successes = successes + 1, last_used_at = :at, "
                        "nodes = :n WHERE id = :id"
                    ),
                    {"at": at, "n": json.dumps(nodes), "id": row.id},
                )
            else:
                conn.execute(
                    insert(m.CallFlow).values(
                        company=company,
                        intent=intent,
                        digits=digits,
                        nodes=json.dumps(nodes),
                        successes=1,
                        last_used_at=at,
                    )
                )

    def prune(self, max_history: int | None) -> int:
        """Keep only the newest ``max_history`` calls (children go by ON DELETE CASCADE)."""
        if not max_history or max_history <= 0:
            return 0
        with self.tx() as conn:
            cutoff = conn.execute(
                text("SELECT started_at FROM calls ORDER BY started_at DESC LIMIT 1 OFFSET :n"),
                {"n": max_history - 1},
            ).scalar()
            if cutoff is None:
                return 0
            old = "SELECT id FROM calls ORDER BY started_at DESC LIMIT -1 OFFSET :n"
            conn.execute(
                text(f"DELETE FROM call_search WHERE rowid IN ({old})"), {"n": max_history}
            )
            result = conn.execute(
                text(f"DELETE FROM calls WHERE id IN ({old})"), {"n": max_history}
            )
            return result.rowcount or 0

    # -- reads ------------------------------------------------------------------------
    def get_call(self, call_id: str) -> dict[str, Any] | None:
        """One call with its IVR steps, transcript, recordings and notifications."""
        with self.read() as conn:
            row = conn.execute(
                text("SELECT * FROM calls WHERE call_id = :c"), {"c": call_id}
            ).first()
            if row is None:
                return None
            call = _row(row)
            for key, table in (
                ("ivr_steps", "ivr_steps"),
                ("transcript", "transcript_chunks"),
                ("recordings", "recordings"),
                ("notifications", "notifications"),
            ):
                rows = conn.execute(
                    text(f"SELECT * FROM {table} WHERE call_id = :c ORDER BY at, id"),
                    {"c": call_id},
                ).all()
                call[key] = [_row(r) for r in rows]
            for step in call["ivr_steps"]:
                step["options"] = json.loads(step["options"] or "[]")
        return call

    def list_calls(
        self,
        *,
        limit: int = 50,
        company: str | None = None,
        search: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; ``search`` finds words (or word starts) anywhere in a call: company,
        number, intent, cause, menu prompts, transcript."""
        where = []
        params: dict[str, Any] = {"limit": limit}
        if company:
            where.append("c.company = :company")
            params["company"] = self.company_name(company)
        if search:
            query = fts_query(search)
            if not query:
                return []
            params["q"] = query
            where.append("c.id IN (SELECT rowid FROM call_search WHERE call_search MATCH :q)")
        sql = "SELECT c.* FROM calls c"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY c.started_at DESC, c.id DESC LIMIT :limit"
        with self.read() as conn:
            return [_row(r) for r in conn.execute(text(sql), params)]

    def company_name(self, company: str) -> str:
        """The stored spelling of a company typed in any case ("acme bank" -> "Acme Bank")."""
        with self.read() as conn:
            name = conn.execute(
                text("SELECT name FROM companies WHERE name = :c COLLATE NOCASE LIMIT 1"),
                {"c": company},
            ).scalar()
        return name or company

    def notifications(self, call_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM notifications"
        params: dict[str, Any] = {}
        if call_id is not None:
            sql += " WHERE call_id = :c"
            params["c"] = call_id
        with self.read() as conn:
            return [_row(r) for r in conn.execute(text(sql + " ORDER BY at, id"), params)]

    def flows(self, company: str, intent: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM call_flows WHERE company = :c"
        params: dict[str, Any] = {"c": company}
        if intent is not None:
            sql += " AND intent = :i"
            params["i"] = intent
        with self.read() as conn:
            rows = conn.execute(text(sql + " ORDER BY successes DESC, last_used_at DESC"), params)
            out = [_row(r) for r in rows]
        for flow in out:
            flow["nodes"] = json.loads(flow["nodes"] or "[]")
        return out


def fts_query(search: str) -> str:
    """User text -> an FTS5 query: every word must appear, each as a prefix ("dan" finds
    "Dana"); quoting each word keeps FTS operators typed by the user inert."""
    words = re.findall(r"\w+", search, flags=re.UNICODE)
    return " ".join(f'"{w}"*' for w in words)


def _row(row: Row[Any]) -> dict[str, Any]:
    mapping: Mapping[str, Any] = row._mapping
    return dict(mapping)
