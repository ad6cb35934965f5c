"""What every channel is: something that delivers one notification to one target, raising
on failure. Retries, backoff, threading and history are the notifier's job, not the channel's,
so each channel stays a few lines of protocol."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import httpx

from engine.notify.messages import Notification
from engine.notify.settings import ChannelSettings


class ChannelError(Exception):
    """Delivery failed but may work later (network, 5xx, 429): retry."""


class PermanentChannelError(ChannelError):
    """Retrying cannot help (bad credentials, rejected recipient, 4xx)."""


class Channel:
    name: ClassVar[str] = "channel"

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        # Set by the notifier: called, from any thread, with (notification, action key)
        # when the user answers a notification through this channel (a desktop button).
        # Channels that cannot ask the user never call it.
        self.on_action: Callable[[Notification, str], None] | None = None

    def targets(self) -> list[str]:
        """Recipients delivered (and retried, and recorded) one by one; [""] means one send."""
        return [""]

    def send(self, notification: Notification, target: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release long-lived resources (connections, loops)."""


RETRYABLE_STATUS = frozenset({408, 425, 429})


def check_response(response: httpx.Response, what: str) -> None:
    """Map an HTTP status to success, retry, or give up. Messages never carry URLs (which
    may hold tokens) or response bodies beyond a short excerpt."""
    code = response.status_code
    if 200 <= code < 300:
        return
    excerpt = response.text[:120].replace("\n", " ")
    message = f"{what} answered HTTP {code}: {excerpt}"
    if code >= 500 or code in RETRYABLE_STATUS:
        raise ChannelError(message)
    raise PermanentChannelError(message)


def post(what: str, timeout: float, url: str, **kwargs: object) -> httpx.Response:
    """POST with transport errors turned into retryable ChannelErrors naming no URL."""
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        raise ChannelError(f"{what} unreachable: {type(exc).__name__}") from None
    check_response(response, what)
    return response
