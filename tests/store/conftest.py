"""Fixtures for history tests: a real SQLite file per test and a real event bus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.events import EventBus
from engine.store import HistoryStore


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "history.sqlite3"
    monkeypatch.setenv("HOLDSLAYER_DB_PATH", str(path))
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(db_path) as s:
        yield s


@pytest.fixture
def bus() -> EventBus:
    return EventBus()
