"""Where the history database lives: the user's data dir, or ``HOLDSLAYER_DB_PATH`` so tests
and power users can point at another file without touching settings."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DB_ENV = "HOLDSLAYER_DB_PATH"


def default_db_path() -> Path:
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("holdslayer")) / "history.sqlite3"
