"""Desktop notifications through the freedesktop D-Bus service (desktop-notifier).

desktop-notifier is asyncio-only and keeps a D-Bus connection, so the channel owns one
private event loop thread and reuses one notifier; sends from worker threads are handed to
it. Its ``send`` swallows errors, so success is judged by the ``on_dispatched`` callback.

A notification with actions ("Take call" / "Hang up" when a person answers) gets one button
per action, but only where the server says it can show buttons (the "actions" capability;
the text alone would otherwise promise something the user cannot click). Clicking a call's
notification itself is the action ``show_call`` (the app brings that call into view). A
press arrives as a D-Bus signal on this channel's loop and is handed straight to
``on_action``, which only publishes an event: nothing here waits on the user.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
from typing import Any

from engine.notify.channels.base import Channel, ChannelError
from engine.notify.messages import SHOW_CALL, Notification
from engine.notify.priority import Priority
from engine.notify.settings import DesktopSettings

log = logging.getLogger(__name__)


def _urgency(priority: Priority) -> Any:
    from desktop_notifier import Urgency

    if priority >= Priority.CRITICAL:
        return Urgency.Critical
    return Urgency.Low if priority <= Priority.LOW else Urgency.Normal


class DesktopChannel(Channel):
    name = "desktop"
    settings: DesktopSettings

    def __init__(self, settings: DesktopSettings) -> None:
        super().__init__(settings)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._notifier: Any = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="notify-desktop", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    async def _send(self, n: Notification) -> bool:
        if self._notifier is None:
            from desktop_notifier import DesktopNotifier  # D-Bus libraries only when used

            self._notifier = DesktopNotifier(app_name=self.settings.app_name)
        try:
            buttons = await self._buttons(n)
        except Exception:  # the server is unreachable: sending would fail the same way
            return False
        dispatched = asyncio.Event()
        clicked = (
            functools.partial(self._pressed, n, SHOW_CALL)
            if n.call_id and self.on_action is not None
            else None
        )
        await self._notifier.send(
            n.title,
            n.body,
            urgency=_urgency(n.priority),
            buttons=buttons,
            on_dispatched=dispatched.set,
            on_clicked=clicked,
        )
        return dispatched.is_set()

    async def _buttons(self, n: Notification) -> tuple[Any, ...]:
        if not n.actions or self.on_action is None:
            return ()
        from desktop_notifier import Button, Capability

        if Capability.BUTTONS not in await self._notifier.get_capabilities():
            return ()
        return tuple(
            # the key as the identifier: it is what the server shows in its action menus
            Button(title, on_pressed=functools.partial(self._pressed, n, key), identifier=key)
            for key, title in n.actions
        )

    def _pressed(self, n: Notification, action: str) -> None:
        """On this channel's loop, from the server's ActionInvoked signal."""
        callback = self.on_action
        if callback is None:
            return
        try:
            callback(n, action)
        except Exception:
            log.exception("desktop: handling %r on %r failed", action, n.title)

    def send(self, notification: Notification, target: str) -> None:
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._send(notification), loop)
        try:
            ok = future.result(timeout=self.settings.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            self._notifier = None  # reconnect next time
            raise ChannelError("desktop notification service did not answer") from None
        if not ok:
            self._notifier = None
            raise ChannelError("no desktop notification service on the session D-Bus")

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None:
                thread.join(2)
            if not loop.is_running():
                loop.close()
