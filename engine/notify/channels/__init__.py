"""Delivery channels; ``build_channels`` makes the ones the settings enable."""

from __future__ import annotations

import logging

from engine.notify.channels.base import Channel, ChannelError, PermanentChannelError
from engine.notify.channels.desktop import DesktopChannel
from engine.notify.channels.email import EmailChannel
from engine.notify.channels.ntfy import NtfyChannel
from engine.notify.channels.sms import SmsGatewayChannel, TwilioChannel
from engine.notify.channels.webhook import WebhookChannel
from engine.notify.settings import NotifySettings

log = logging.getLogger(__name__)

__all__ = [
    "Channel",
    "ChannelError",
    "DesktopChannel",
    "EmailChannel",
    "NtfyChannel",
    "PermanentChannelError",
    "SmsGatewayChannel",
    "TwilioChannel",
    "WebhookChannel",
    "build_channels",
]


def build_channels(settings: NotifySettings) -> list[Channel]:
    """Enabled channels with enough configuration to work; the rest are named in the log."""
    candidates: list[tuple[Channel, bool]] = [
        (DesktopChannel(settings.desktop), True),
        (WebhookChannel(settings.webhook), bool(settings.webhook.url)),
        (SmsGatewayChannel(settings.sms), bool(settings.sms.url and settings.sms.to)),
        (
            TwilioChannel(settings.twilio),
            bool(settings.twilio.account_sid and settings.twilio.auth_token and settings.twilio.to),
        ),
        (EmailChannel(settings.email), bool(settings.email.host and settings.email.to)),
        (NtfyChannel(settings.ntfy), bool(settings.ntfy.topic)),
    ]
    channels = []
    for channel, configured in candidates:
        if not channel.settings.enabled:
            continue
        if not configured:
            log.warning("notify: %s is enabled but not configured; skipping it", channel.name)
            continue
        channels.append(channel)
    return channels
