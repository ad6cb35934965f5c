"""Where the history database lives: ``HOLDSLAYER_DB_PATH`` if set (tests and power users
point at another file without touching settings), else ``history.sqlite3`` in the data dir,
which ``HOLDSLAYER_DATA_DIR`` moves along with the company memory and recordings."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV = "HOLDSLAYER_DB_PATH"


def default_db_path() -> Path:
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    from engine.config import data_dir  # late: engine.config -> notify -> store -> here

    return data_dir() / "history.sqlite3"
