"""SMS, two ways: Twilio's REST API (the provider most people already have), and a generic
HTTP gateway (an Android phone running an SMS-gateway app, or a self-hosted relay)."""

from __future__ import annotations

from engine.notify.channels.base import Channel, PermanentChannelError, post
from engine.notify.messages import Notification
from engine.notify.settings import SmsGatewaySettings, TwilioSettings

SMS_MAX = 320  # two segments: enough for "who, what", cheap enough to send


def sms_text(n: Notification) -> str:
    text = f"{n.title}. {n.body}"
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "\u2026"


class TwilioChannel(Channel):
    """``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded To/From/Body,
    HTTP basic auth with the account SID and auth token (Twilio's documented API)."""

    name = "twilio"
    settings: TwilioSettings

    def targets(self) -> list[str]:
        return list(self.settings.to)

    def send(self, notification: Notification, target: str) -> None:
        s = self.settings
        if not (s.account_sid and s.auth_token and s.from_number):
            raise PermanentChannelError("twilio account_sid, auth_token and from_number are needed")
        url = f"{s.api_base.rstrip('/')}/2010-04-01/Accounts/{s.account_sid}/Messages.json"
        post(
            "twilio",
            s.timeout_s,
            url,
            data={"To": target, "From": s.from_number, "Body": sms_text(notification)},
            auth=(s.account_sid, s.auth_token.get_secret_value()),
        )


class SmsGatewayChannel(Channel):
    name = "sms"
    settings: SmsGatewaySettings

    def targets(self) -> list[str]:
        return list(self.settings.to)

    def send(self, notification: Notification, target: str) -> None:
        s = self.settings
        if not s.url:
            raise PermanentChannelError("sms gateway url is not set")
        payload = {s.to_field: target, s.message_field: sms_text(notification)}
        if s.sender:
            payload[s.from_field] = s.sender
        headers = {"User-Agent": "holdslayer"}
        if s.token is not None:
            headers["Authorization"] = f"Bearer {s.token.get_secret_value()}"
        auth = None
        if s.username and s.password is not None:
            auth = (s.username, s.password.get_secret_value())
        post("sms gateway", s.timeout_s, s.url, json=payload, headers=headers, auth=auth)
