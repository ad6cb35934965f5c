"""Settings: defaults without a file, clear errors for a broken one, secrets kept secret."""

import os
from pathlib import Path

import pytest

from engine.config import ConfigError, Settings, load_settings, save_settings


def test_missing_file_means_demo_mode(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "nope.toml")
    assert s.demo_mode and s.sip.dtmf_method == "rfc2833"


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text('[sip]\nusername = "alice"\nregistrar = \n')
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML: .*line 3"):
        load_settings(p)


def test_bad_value_and_unknown_key_name_line_and_key(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text('[sip]\nregistrar = "pbx.example.com"\ndtmf_spacing = "fast"\npasword = "x"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings(p)
    msg = str(exc.value)
    assert "line 3: sip.dtmf_spacing" in msg
    assert "line 4: sip.pasword: unknown setting" in msg


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "config.toml"
    p.write_text('[sip]\nregistrar = "pbx.example.com"\nusername = "alice"\n')
    monkeypatch.setenv("HOLDSLAYER_SIP__USERNAME", "bob")
    s = load_settings(p)
    assert s.sip.username == "bob" and s.sip.registrar == "sip:pbx.example.com"


def test_saved_file_is_private_and_secrets_never_print(tmp_path: Path) -> None:
    s = Settings(sip={"registrar": "pbx", "username": "alice", "password": "hunter2"})
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.model_dump())
    path = save_settings(s, tmp_path / "c" / "config.toml")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_settings(path).sip.password.get_secret_value() == "hunter2"
