"""Suite-wide: every test gets its own config, data dir and history file, never the user's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# shared test helpers (the test folders are not packages): ``from desktop_session import ...``
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("hs-home")
    monkeypatch.setenv("HOLDSLAYER_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("HOLDSLAYER_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("HOLDSLAYER_DB_PATH", str(home / "data" / "history.sqlite3"))


@pytest.fixture(scope="session", autouse=True)
def _repeatable_speech() -> None:
    """Piper draws fresh noise for every sentence (even its length varies), so a test that
    synthesises a prompt would hear other audio on every run: in tests, it speaks without
    noise, the same audio every time. The corpus keeps the noise (cached per sentence)."""
    from engine.speech import tts

    tts._default = tts.FallbackTTS(
        [tts.PiperTTS(noise_scale=0.0, noise_w_scale=0.0), tts.FliteTTS()]
    )
