"""Notification settings, one section per channel, embedded by the app settings as
``notify: NotifySettings``. Secrets are ``SecretStr`` so they never reach a log or repr.

Only desktop is on by default: every other channel needs an address the user supplies.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_serializer, field_validator

from engine.notify.priority import Priority


class ChannelSettings(BaseModel):
    enabled: bool = False
    min_priority: Priority = Priority.HIGH
    retries: int = Field(default=3, ge=0, le=10, description="extra attempts after a failure")
    backoff_s: float = Field(default=1.0, ge=0, description="first retry delay; doubles each time")
    timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("min_priority", mode="before")
    @classmethod
    def _priority(cls, value: Any) -> Priority:
        return Priority.parse(value)

    @field_serializer("min_priority")
    def _priority_name(self, value: Priority) -> str:
        return value.name.lower()


class DesktopSettings(ChannelSettings):
    enabled: bool = True
    min_priority: Priority = Priority.NORMAL
    retries: int = 1
    app_name: str = "Hold Slayer"


class WebhookSettings(ChannelSettings):
    """JSON POST, signed: ``X-HoldSlayer-Signature: sha256=HMAC(secret, "<ts>.<body>")``."""

    min_priority: Priority = Priority.NORMAL
    url: str | None = None
    secret: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class SmsGatewaySettings(ChannelSettings):
    """A generic HTTP SMS gateway (a phone running an SMS-gateway app, a self-hosted relay):
    JSON POST ``{to_field: number, from_field: sender, message_field: text}`` per recipient."""

    min_priority: Priority = Priority.CRITICAL
    url: str | None = None
    to: list[str] = Field(default_factory=list)
    sender: str = ""
    token: SecretStr | None = None  # sent as "Authorization: Bearer ..."
    username: str | None = None  # or basic auth
    password: SecretStr | None = None
    to_field: str = "to"
    from_field: str = "from"
    message_field: str = "message"


class TwilioSettings(ChannelSettings):
    min_priority: Priority = Priority.CRITICAL
    account_sid: str = ""
    auth_token: SecretStr | None = None
    from_number: str = ""
    to: list[str] = Field(default_factory=list)
    api_base: str = "https://api.twilio.com"


class EmailSettings(ChannelSettings):
    host: str = ""
    port: int = 587
    starttls: bool = True  # upgrade a plain connection (port 587)
    ssl: bool = False  # implicit TLS instead (port 465)
    ca_file: str | None = None  # trust this CA (a home server's own certificate)
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "holdslayer@localhost"
    to: list[str] = Field(default_factory=list)


class NtfySettings(ChannelSettings):
    """ntfy (self-hosted or ntfy.sh) push to the user's phone."""

    server: str = "https://ntfy.sh"
    topic: str = ""
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None


class NotifySettings(BaseModel):
    desktop: DesktopSettings = Field(default_factory=DesktopSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    sms: SmsGatewaySettings = Field(default_factory=SmsGatewaySettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    ntfy: NtfySettings = Field(default_factory=NtfySettings)
