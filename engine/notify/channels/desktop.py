"""Desktop notifications through the freedesktop D-Bus service (desktop-notifier).

desktop-notifier is asyncio-only and keeps a D-Bus connection, so the channel owns one
private event loop thread and reuses one notifier; sends from worker threads are handed to
it. Its ``send`` swallows errors, so success is judged by the ``on_dispatched`` callback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

from engine.notify.channels.base import Channel, ChannelError
from engine.notify.messages import Notification
from engine.notify.priority import Priority
from engine.notify.settings import DesktopSettings


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
        dispatched = asyncio.Event()
        await self._notifier.send(
            n.title,
            n.body,
            urgency=_urgency(n.priority),
            on_dispatched=dispatched.set,
        )
        return dispatched.is_set()

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
