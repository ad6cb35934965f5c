"""Settings: SIP trunk, hand-over target, the profile menus ask for, LLM and notification
channels. Validated as typed by the engine's own settings model; saved (mode 0600) with
``save_settings`` in a worker."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Select, Static

from engine.config import Settings, save_settings
from holdslayer_tui.screens.base import HsScreen


@dataclasses.dataclass(frozen=True)
class Field:
    path: str
    label: str
    kind: str = "text"  # text | secret | choice | bool
    choices: tuple[str, ...] = ()
    placeholder: str = ""


FIELDS: tuple[Field, ...] = (
    Field("sip.registrar", "SIP registrar", placeholder="sip:pbx.example.com (blank: demo mode)"),
    Field("sip.username", "SIP username"),
    Field("sip.password", "SIP password", "secret"),
    Field("sip.transport", "Transport", "choice", ("udp", "tcp", "tls")),
    Field("sip.srtp", "Encrypted audio", "choice", ("off", "optional", "mandatory")),
    Field("sip.dtmf_method", "Digits sent as", "choice", ("rfc2833", "info", "inband")),
    Field("sip.default_country", "Country code", placeholder="1"),
    Field("handover.mode", "Hand over to", "choice", ("none", "phone", "local_audio")),
    Field("handover.target", "Your phone", placeholder="number or SIP URI"),
    Field("profile.name", "Your name"),
    Field("profile.callback_number", "Callback number"),
    Field("profile.zip_code", "ZIP code"),
    Field("llm.base_url", "LLM server", placeholder="http://localhost:11434/v1"),
    Field("llm.model", "LLM model"),
    Field("llm.api_key", "LLM API key", "secret"),
    Field("notify.desktop.enabled", "Desktop alerts", "bool"),
    Field("notify.webhook.enabled", "Webhook alerts", "bool"),
    Field("notify.webhook.url", "Webhook URL", placeholder="https://…"),
    Field("recording.enabled", "Record calls", "bool"),
)


def plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def get_path(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def validate(base: Settings, values: dict[str, Any]) -> tuple[Settings | None, dict[str, str]]:
    """(settings, {}) or (None, {dotted path: message})."""
    data = plain(base.model_dump())
    for path, value in values.items():
        set_path(data, path, value)
    try:
        return Settings(**data), {}
    except ValidationError as exc:
        errors = {}
        for err in exc.errors():
            errors[".".join(str(p) for p in err["loc"])] = err["msg"]
        return None, errors


def widget_id(path: str) -> str:
    return "set-" + path.replace(".", "-").replace("_", "-")


class SettingsSaved(Message):
    def __init__(self, settings: Settings | None, where: str, error: str = "") -> None:
        super().__init__()
        self.settings = settings
        self.where = where
        self.error = error


class SettingsScreen(HsScreen):
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save-settings", priority=True)]

    def compose(self) -> ComposeResult:
        yield Header()
        data = plain(self.hs.settings.model_dump())
        with VerticalScroll(id="settings-form"):
            for f in FIELDS:
                value = get_path(data, f.path)
                with Horizontal(classes="setting"):
                    yield Label(f.label, classes="setting-label")
                    if f.kind == "choice":
                        yield Select([(c, c) for c in f.choices], value=value, allow_blank=False,
                                     id=widget_id(f.path))
                    elif f.kind == "bool":
                        yield Select([("on", True), ("off", False)], value=bool(value),
                                     allow_blank=False, id=widget_id(f.path))
                    else:
                        yield Input("" if value is None else str(value),
                                    placeholder=f.placeholder, password=f.kind == "secret",
                                    id=widget_id(f.path))
        yield Static("", id="settings-errors")
        yield Footer()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in FIELDS:
            widget = self.query_one(f"#{widget_id(f.path)}")
            value = widget.value  # type: ignore[attr-defined]
            if f.path == "notify.webhook.url" and value == "":
                value = None
            out[f.path] = value
        return out

    @on(Input.Changed)
    @on(Select.Changed)
    def check(self) -> dict[str, str]:
        _, errors = validate(self.hs.settings, self.values())
        for f in FIELDS:
            self.query_one(f"#{widget_id(f.path)}").set_class(f.path in errors, "-invalid")
        self.query_one("#settings-errors", Static).update(
            "\n".join(f"{path}: {msg}" for path, msg in errors.items())
            or "ctrl+s saves to the config file")
        return errors

    def action_save(self) -> None:
        settings, errors = validate(self.hs.settings, self.values())
        if settings is None:
            self.check()
            self.notify("Fix the settings marked in red first.", severity="error")
            return
        self.save(settings)

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False,
          description="save settings")
    def save(self, settings: Settings) -> None:
        try:
            path: Path = save_settings(settings, self.hs.config_path)
        except OSError as exc:
            self.post_message(SettingsSaved(None, "", f"cannot save settings: {exc}"))
            return
        self.post_message(SettingsSaved(settings, str(path)))

    @on(SettingsSaved)
    def _saved(self, message: SettingsSaved) -> None:
        if message.settings is None:
            self.notify(message.error, severity="error")
            return
        self.hs.settings = message.settings
        self.notify(f"Saved to {message.where}. SIP changes apply on the next start.",
                    title="Settings saved")
