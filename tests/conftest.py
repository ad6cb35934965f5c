"""Suite-wide: every test gets its own config, data dir and history file, never the user's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("hs-home")
    monkeypatch.setenv("HOLDSLAYER_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("HOLDSLAYER_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("HOLDSLAYER_DB_PATH", str(home / "data" / "history.sqlite3"))
