"""Call history: every call remembered in SQLite, written as it happens."""

from engine.store.database import HistoryStore
from engine.store.paths import default_db_path
from engine.store.recorder import HistoryRecorder

__all__ = ["HistoryRecorder", "HistoryStore", "default_db_path"]
