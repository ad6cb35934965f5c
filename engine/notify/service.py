"""The notifier: turns bus events into messages and delivers them on every channel whose
minimum priority they meet.

Why it is built this way: a call must never wait on, or be broken by, an SMTP server or a
flaky webhook. The bus already calls us on our own thread; each delivery then runs on a small
worker pool per channel, with retries and backoff, and every outcome (sent / failed after N
attempts) is written to history. Per-call de-duplication stops a detector that fires twice
from texting the user twice; a call's state is dropped when it ends.
Where a channel can ask the user something back (the desktop's "Take call" / "Hang up"
buttons), the answer is published on the same bus as a USER_ACTION event, so whoever drives
the call (the TUI, ``holdslayer call``) acts on it; the notifier itself never touches a call.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.events import Event, EventBus, EventType, Subscription
from engine.notify.channels import Channel, PermanentChannelError, build_channels
from engine.notify.messages import NOTIFY_TYPES, Notification, message_for
from engine.notify.settings import NotifySettings
from engine.store.database import HistoryStore

log = logging.getLogger(__name__)

_CLOSED_MEMORY = 512  # ended calls remembered, to ignore their stragglers


class Notifier:
    def __init__(
        self,
        bus: EventBus,
        settings: NotifySettings | None = None,
        *,
        store: HistoryStore | None = None,
        channels: list[Channel] | None = None,
        workers_per_channel: int = 2,
    ) -> None:
        self.settings = settings or NotifySettings()
        self.store = store
        self.channels = channels if channels is not None else build_channels(self.settings)
        self._bus = bus
        for channel in self.channels:
            channel.on_action = functools.partial(self._user_action, channel.name)
        # A pool per channel: a hung SMTP server must not hold up the desktop or the SMS.
        self._pools = {
            id(ch): ThreadPoolExecutor(workers_per_channel, thread_name_prefix=f"notify-{ch.name}")
            for ch in self.channels
        }
        self._stop = threading.Event()
        self._lock = threading.Condition()
        self._pending = 0
        self._events_seen = 0
        self._context: dict[str, dict[str, Any]] = {}
        self._sent: dict[str, set[str]] = {}
        self._closed: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._sub: Subscription | None = bus.subscribe(self.handle, types=NOTIFY_TYPES)

    # -- lifecycle --------------------------------------------------------------------
    def wait_idle(self, timeout: float = 10.0, *, events: int = 0) -> bool:
        """Until ``events`` bus events have been handled and every delivery so far has been
        sent or has given up (tests, orderly shutdown)."""
        with self._lock:
            return self._lock.wait_for(
                lambda: self._events_seen >= events and self._pending == 0, timeout
            )

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, give in-flight deliveries ``timeout`` s, then abandon retries."""
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        self.wait_idle(timeout)
        self._stop.set()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        for channel in self.channels:
            try:
                channel.close()
            except Exception:
                log.exception("notify: closing %s failed", channel.name)

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events -> notifications --------------------------------------------------------
    def handle(self, event: Event) -> None:
        try:
            self._handle(event)
        finally:
            with self._lock:
                self._events_seen += 1
                self._lock.notify_all()

    def _handle(self, event: Event) -> None:
        cid = event.call_id
        if cid in self._closed:
            return  # e.g. CALL_ENDED right after CALL_FAILED: the failure said it all
        if event.type is EventType.CALL_STARTED:
            self._context[cid] = {k: event.data.get(k) for k in ("company", "number", "target")}
            return
        notification = message_for(event, self._context.get(cid, {}))
        ending = event.type in (EventType.CALL_FAILED, EventType.CALL_ENDED)
        if ending:
            self._forget(cid)
        if notification is None:
            return
        if not ending:
            seen = self._sent.setdefault(cid, set())
            if notification.dedupe_key in seen:
                return
            seen.add(notification.dedupe_key)
        self.notify(notification)

    def _forget(self, call_id: str) -> None:
        self._context.pop(call_id, None)
        self._sent.pop(call_id, None)
        if call_id:
            self._closed[call_id] = None
            while len(self._closed) > _CLOSED_MEMORY:
                self._closed.popitem(last=False)

    def _user_action(self, source: str, notification: Notification, action: str) -> None:
        """A channel's callback (its own thread): publishing never blocks."""
        if self._sub is None:
            return  # closed: nobody drives the call any more
        log.info("notify: user chose %s on %s for call %s", action, source, notification.call_id)
        self._bus.emit(EventType.USER_ACTION, notification.call_id, action=action, source=source)

    def notify(self, notification: Notification) -> None:
        """Queue a notification on every channel that wants its priority; returns at once."""
        for channel in self.channels:
            if notification.priority < channel.settings.min_priority:
                continue
            for target in channel.targets():
                with self._lock:
                    self._pending += 1
                try:
                    self._pools[id(channel)].submit(self._deliver, channel, target, notification)
                except RuntimeError:  # pool shut down
                    self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self._lock.notify_all()

    # -- delivery -----------------------------------------------------------------------
    def _deliver(self, channel: Channel, target: str, n: Notification) -> None:
        try:
            attempts, error = self._attempt(channel, target, n)
            self._record(channel, target, n, attempts, error)
        except Exception:  # never let a bug here escape into the pool silently
            log.exception("notify: delivery on %s crashed", channel.name)
        finally:
            self._done()

    def _attempt(self, channel: Channel, target: str, n: Notification) -> tuple[int, str]:
        s = channel.settings
        error = ""
        for attempt in range(1, s.retries + 2):
            try:
                channel.send(n, target)
                return attempt, ""
            except PermanentChannelError as exc:
                return attempt, str(exc)
            except Exception as exc:
                error = str(exc) or type(exc).__name__
                if attempt > s.retries:
                    break
                delay = s.backoff_s * 2 ** (attempt - 1)
                log.info(
                    "notify: %s attempt %d failed (%s); retrying in %.1f s",
                    channel.name, attempt, error, delay,
                )
                if self._stop.wait(delay):
                    break
        return attempt, error

    def _record(
        self, channel: Channel, target: str, n: Notification, attempts: int, error: str
    ) -> None:
        status = "failed" if error else "sent"
        if error:
            log.warning(
                "notify: %s gave up on %r after %d attempt(s): %s",
                channel.name, n.title, attempts, error,
            )
        else:
            log.debug("notify: %s sent %r", channel.name, n.title)
        if self.store is None:
            return
        try:
            self.store.add_notification(
                call_id=n.call_id,
                event_type=n.event_type,
                channel=channel.name,
                target=target,
                priority=n.priority.name,
                title=n.title,
                status=status,
                attempts=attempts,
                error=error,
            )
        except Exception:
            log.exception("notify: could not record the %s delivery in history", channel.name)
