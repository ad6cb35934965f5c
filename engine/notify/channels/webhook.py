"""Webhook: a signed JSON POST that a home-automation hub or script can trust.

Signature (like GitHub/Stripe): ``X-HoldSlayer-Signature: sha256=<hex>`` where the HMAC-SHA256
key is the shared secret and the message is ``"<X-HoldSlayer-Timestamp>." + raw body``;
including the timestamp lets receivers reject replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from engine.notify.channels.base import Channel, PermanentChannelError, post
from engine.notify.messages import Notification
from engine.notify.settings import WebhookSettings

SIGNATURE_HEADER = "X-HoldSlayer-Signature"
TIMESTAMP_HEADER = "X-HoldSlayer-Timestamp"
EVENT_HEADER = "X-HoldSlayer-Event"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): constant-time check of a signature header."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel(Channel):
    name = "webhook"
    settings: WebhookSettings

    def send(self, notification: Notification, target: str) -> None:
        if not self.settings.url:
            raise PermanentChannelError("webhook url is not set")
        body = json.dumps(notification.to_dict(), default=str, separators=(",", ":")).encode()
        ts = str(int(time.time()))
        headers = {
            **self.settings.headers,
            "Content-Type": "application/json",
            "User-Agent": "holdslayer",
            EVENT_HEADER: notification.event_type,
            TIMESTAMP_HEADER: ts,
        }
        if self.settings.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.settings.secret.get_secret_value(), ts, body)
        post("webhook", self.settings.timeout_s, self.settings.url, content=body, headers=headers)
