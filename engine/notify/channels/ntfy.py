"""ntfy push (ntfy.sh or the self-hosted server many home-server users run).

Published as JSON to the server root rather than with Title/Priority headers, because
headers cannot carry non-ASCII text (company names, quotes) and JSON can.
"""

from __future__ import annotations

from engine.notify.channels.base import Channel, PermanentChannelError, post
from engine.notify.messages import Notification
from engine.notify.priority import Priority
from engine.notify.settings import NtfySettings

NTFY_PRIORITY = {Priority.LOW: 2, Priority.NORMAL: 3, Priority.HIGH: 4, Priority.CRITICAL: 5}
NTFY_TAGS = {
    Priority.LOW: ["telephone"],
    Priority.NORMAL: ["telephone"],
    Priority.HIGH: ["warning"],
    Priority.CRITICAL: ["telephone_receiver", "rotating_light"],
}


class NtfyChannel(Channel):
    name = "ntfy"
    settings: NtfySettings

    def send(self, notification: Notification, target: str) -> None:
        s = self.settings
        if not s.topic:
            raise PermanentChannelError("ntfy topic is not set")
        payload = {
            "topic": s.topic,
            "title": notification.title,
            "message": notification.body,
            "priority": NTFY_PRIORITY[notification.priority],
            "tags": NTFY_TAGS[notification.priority],
        }
        headers = {"User-Agent": "holdslayer"}
        if s.token is not None:
            headers["Authorization"] = f"Bearer {s.token.get_secret_value()}"
        auth = None
        if s.username and s.password is not None:
            auth = (s.username, s.password.get_secret_value())
        post("ntfy", s.timeout_s, s.server.rstrip("/") + "/", json=payload, headers=headers,
             auth=auth)
