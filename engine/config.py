"""Settings: one pydantic model, read from ``config.toml`` in the user's config dir, with
``HOLDSLAYER_*`` environment overrides (``HOLDSLAYER_SIP__USERNAME=alice``).

A missing file means defaults, i.e. demo mode. A malformed file stops us with a message naming
the file, the line and the key, rather than silently dialling with half a config. Secrets are
``SecretStr`` (printed as ``**********``) and the file is written with mode 0600.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from engine.notify.settings import NotifySettings

APP_NAME = "holdslayer"


class ConfigError(Exception):
    """The config file cannot be used; the message says where and why."""


def config_path() -> Path:
    env = os.environ.get("HOLDSLAYER_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir() -> Path:
    env = os.environ.get("HOLDSLAYER_DATA_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME))


class Section(BaseModel):
    """A config-file section: unknown keys are typos, so they are errors."""

    model_config = ConfigDict(extra="forbid")


class SipSettings(Section):
    """A trunk/PBX account; leave ``registrar`` empty to dial only SIP URIs and demos."""

    registrar: str = Field("", description="e.g. sip:pbx.example.com or sip:sip.provider.net:5060")
    username: str = ""
    password: SecretStr = SecretStr("")
    auth_username: str = Field("", description="if different from username")
    realm: str = "*"
    outbound_proxy: str = ""
    transport: Literal["udp", "tcp", "tls"] = "udp"
    srtp: Literal["off", "optional", "mandatory"] = Field(
        "off", description="encrypt call audio (SDES-SRTP); the keys travel in the SDP, so "
        "they stay private only when transport is tls")
    tls_ca_file: str = Field("", description="PEM file of CAs that may sign the trunk's cert")
    tls_verify_server: bool = Field(False, description="refuse a trunk whose TLS certificate "
                                    "tls_ca_file does not vouch for")
    bind_host: str = "127.0.0.1"
    bind_port: int = Field(0, ge=0, le=65535, description="0 picks a free port")
    public_host: str = ""
    dial_domain: str = Field("", description="domain for tel numbers; default: registrar host")
    number_format: Literal["e164", "digits"] = "e164"
    default_country: str = "1"
    dtmf_method: Literal["rfc2833", "info", "inband"] = "rfc2833"
    dtmf_spacing: float = Field(0.3, ge=0.05, le=5.0)
    dtmf_pause: float = Field(1.0, ge=0.1, le=10.0)
    rtp_timeout: float = Field(10.0, ge=1.0, le=600.0)
    codecs: list[str] = Field(default_factory=list, description="audio codecs to offer, the "
                              "first preferred, e.g. [\"PCMA\", \"PCMU\"] for a trunk that "
                              "wants A-law; empty: every codec of the build")
    register_timeout: float = Field(10.0, ge=1.0, le=120.0)

    @field_validator("registrar", "outbound_proxy")
    @classmethod
    def _sip_uri(cls, v: str) -> str:
        v = v.strip()
        if v and not v.lower().startswith(("sip:", "sips:")):
            v = "sip:" + v
        return v

    @field_validator("tls_ca_file")
    @classmethod
    def _ca_file_exists(cls, v: str) -> str:
        v = v.strip()
        if v and not Path(v).expanduser().is_file():
            raise ValueError(f"tls_ca_file {v!r} does not exist or is not a file")
        return str(Path(v).expanduser()) if v else v

    @model_validator(mode="after")
    def _verify_needs_ca(self) -> SipSettings:
        # checking a certificate means checking it against CAs the user named
        if self.tls_verify_server and not self.tls_ca_file:
            raise ValueError("tls_verify_server = true needs tls_ca_file (a PEM file of the "
                             "CAs that sign the trunk's certificate)")
        return self


class RecordingSettings(Section):
    enabled: bool = False
    directory: str = Field("", description="default: <data dir>/recordings")
    max_recording_seconds: int = Field(7200, ge=1)


class ProfileSettings(Section):
    """What phone menus ask for."""

    name: str = ""
    callback_number: str = ""
    zip_code: str = ""
    account_numbers: dict[str, str] = Field(default_factory=dict)


class HandoverSettings(Section):
    mode: Literal["phone", "local_audio", "none"] = "none"
    target: str = Field("", description="the user's phone: number or SIP URI")


class DetectionSettings(Section):
    liveness_check: bool = Field(
        False, description="when a new voice might be a person, say 'Hi, one moment please' "
        "and listen for them to stop (off: it measured slower on the benchmark)")
    voice_prints: bool = Field(
        True, description="tell a voice the line never played (a person) from the company's "
        "recorded voices, a second into it (off: words and turn-taking only)")


class LlmSettings(Section):
    base_url: str = ""
    model: str = ""
    api_key: SecretStr = SecretStr("")
    timeout: float = 30.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOLDSLAYER_", env_nested_delimiter="__", extra="forbid"
    )

    sip: SipSettings = Field(default_factory=SipSettings)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    profile: ProfileSettings = Field(default_factory=ProfileSettings)
    handover: HandoverSettings = Field(default_factory=HandoverSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    detection: DetectionSettings = Field(default_factory=DetectionSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    keymap: dict[str, str] = Field(
        default_factory=dict, description="TUI keys: binding id -> keys, e.g. hangup = 'x'")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment beats the file, which is passed in as init kwargs
        return (env_settings, init_settings)

    @property
    def demo_mode(self) -> bool:
        return not self.sip.registrar

    def recordings_dir(self) -> Path:
        return Path(self.recording.directory or data_dir() / "recordings")


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a dotted key in TOML text (for error messages)."""
    if not loc:
        return None
    section, key = ".".join(str(p) for p in loc[:-1]), str(loc[-1])
    current = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            current = s.strip("[] ")
        elif "=" in s and not s.startswith("#"):
            k = s.split("=", 1)[0].strip().strip('"')
            if (current == section and k == key) or (not current and k == ".".join(map(str, loc))):
                return lineno
            if len(loc) == 1 and s.startswith(f"[{key}]"):
                return lineno
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().strip("[]") == ".".join(map(str, loc)):
            return lineno
    return None


def load_settings(path: Path | None = None) -> Settings:
    """Settings from ``path`` (default :func:`config_path`) plus environment overrides."""
    path = path or config_path()
    text, data = "", {}
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config: {exc}") from None
    try:
        return Settings(**data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc)
            line = _line_of(text, loc)
            where = f"{path}, line {line}" if line else str(path)
            msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {key}: {msg}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):  # TOML has no null: an unset optional is left out
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically with mode 0600 (it holds passwords and API keys)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _plain(settings.model_dump())
    tmp = path.with_suffix(".toml.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(data, fh)
    os.replace(tmp, path)
    os.chmod(path, 0o600)
    return path
