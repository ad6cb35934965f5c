"""The engine's one event bus: every engine fact flows UI-ward (and to history, notifiers,
the CLI) as an :class:`Event` published here.

Why it looks like this: publishers are the pjsua2 thread and media threads, which must never
block or be hurt by a consumer. So ``publish`` only appends to each subscriber's own bounded
queue; each callback subscriber is served by its own daemon thread, asyncio subscribers by
``loop.call_soon_threadsafe``. A subscriber that raises is logged and kept; one that is slow
loses its own oldest events (counted in ``dropped``), never anyone else's.
Events are plain data (``to_dict`` / ``from_dict``) so a headless service can ship them as JSON.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import enum
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)


class EventType(enum.StrEnum):
    """Public event names (scripts read them from ``holdslayer call --json``): never rename."""

    CALL_STARTED = "CALL_STARTED"
    CALL_RINGING = "CALL_RINGING"
    CALL_EARLY_MEDIA = "CALL_EARLY_MEDIA"
    CALL_ANSWERED = "CALL_ANSWERED"
    CALL_FAILED = "CALL_FAILED"
    CALL_ENDED = "CALL_ENDED"
    IVR_STEP = "IVR_STEP"
    IVR_DTMF_SENT = "IVR_DTMF_SENT"
    HOLD_DETECTED = "HOLD_DETECTED"
    HUMAN_DETECTED = "HUMAN_DETECTED"
    TRANSCRIPT_CHUNK = "TRANSCRIPT_CHUNK"
    QUEUE_POSITION = "QUEUE_POSITION"
    CALLBACK_OFFER = "CALLBACK_OFFER"
    TRANSFER_STARTED = "TRANSFER_STARTED"
    TRANSFER_STATUS = "TRANSFER_STATUS"
    AUDIO_LEVEL = "AUDIO_LEVEL"
    LINE_QUALITY = "LINE_QUALITY"
    RECORDING_STARTED = "RECORDING_STARTED"
    RECORDING_STOPPED = "RECORDING_STOPPED"
    REGISTRATION_STATE = "REGISTRATION_STATE"
    ENGINE_ERROR = "ENGINE_ERROR"
    # the user chose an action outside the app (a desktop notification's "Take call" /
    # "Hang up"); data: {action: "take_call" | "hang_up", source: "desktop"}
    USER_ACTION = "USER_ACTION"


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One engine fact. ``call_id`` is "" for engine-wide events (registration)."""

    type: EventType
    call_id: str
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    timestamp: float = dataclasses.field(default_factory=time.time)
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.type.value,
            "call_id": self.call_id,
            "timestamp": self.timestamp,
            "seq": self.seq,
            "data": self.data,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str, separators=(",", ":"))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        return cls(
            type=EventType(raw["event"]),
            call_id=raw.get("call_id", ""),
            data=dict(raw.get("data", {})),
            timestamp=float(raw.get("timestamp", time.time())),
            seq=int(raw.get("seq", 0)),
        )


Callback = Callable[[Event], Any]


class Subscription:
    """A subscriber's private bounded queue; dropping oldest keeps publishers non-blocking."""

    def __init__(
        self,
        bus: EventBus,
        types: frozenset[EventType] | None,
        call_id: str | None,
        maxsize: int,
    ) -> None:
        self._bus = bus
        self.types = types
        self.call_id = call_id
        self._items: collections.deque[Event] = collections.deque()
        self._maxsize = maxsize
        self._cond = threading.Condition()
        self.dropped = 0
        self.closed = False

    def wants(self, event: Event) -> bool:
        if self.types is not None and event.type not in self.types:
            return False
        return self.call_id is None or event.call_id in (self.call_id, "")

    def _offer(self, event: Event) -> None:
        with self._cond:
            if self.closed:
                return
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(event)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Event | None:
        """Next event, or None on timeout / once closed and drained."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._items:
                if self.closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._items.popleft()

    def drain(self) -> list[Event]:
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items

    def close(self) -> None:
        self._bus._remove(self)
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CallbackSubscription(Subscription):
    """Runs a callback on its own thread so a slow or raising callback hurts nobody else."""

    def __init__(self, bus: EventBus, callback: Callback, **kw: Any) -> None:
        super().__init__(bus, **kw)
        self._callback = callback
        self._thread = threading.Thread(
            target=self._run, name=f"event-sub-{getattr(callback, '__name__', 'cb')}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            event = self.get()
            if event is None:
                return
            try:
                self._callback(event)
            except Exception:  # a broken subscriber must not kill the bus
                log.exception("event subscriber %r failed on %s", self._callback, event.type)

    def close(self, timeout: float = 2.0) -> None:
        super().close()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)


class _AsyncSubscription(Subscription):
    """Feeds an asyncio.Queue on its loop; iterate with ``async for``."""

    def __init__(self, bus: EventBus, loop: asyncio.AbstractEventLoop, **kw: Any) -> None:
        super().__init__(bus, **kw)
        self._loop = loop
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=kw["maxsize"])

    def _offer(self, event: Event) -> None:
        if self.closed or self._loop.is_closed():
            return
        try:
            self._loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:  # loop closed between the check and the call
            pass

    def _put(self, event: Event | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    def close(self) -> None:
        super().close()
        if not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._put, None)
            except RuntimeError:
                pass

    def __aiter__(self) -> _AsyncSubscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


class EventBus:
    """Thread-safe publish/subscribe for threads and asyncio alike."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def publish(self, event: Event) -> Event:
        """Never blocks and never raises because of a subscriber."""
        if event.seq == 0:
            event = dataclasses.replace(event, seq=next(self._seq))
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if sub.wants(event):
                try:
                    sub._offer(event)
                except Exception:
                    log.exception("event delivery failed")
        return event

    def emit(self, type_: EventType, call_id: str = "", **data: Any) -> Event:
        return self.publish(Event(type=type_, call_id=call_id, data=data))

    def _types(self, types: Iterable[EventType] | None) -> frozenset[EventType] | None:
        return None if types is None else frozenset(types)

    def subscribe_queue(
        self,
        types: Iterable[EventType] | None = None,
        call_id: str | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """A pull subscription: ``sub.get(timeout)`` from any thread."""
        sub = Subscription(self, self._types(types), call_id, maxsize)
        self._add(sub)
        return sub

    def subscribe(
        self,
        callback: Callback,
        types: Iterable[EventType] | None = None,
        call_id: str | None = None,
        maxsize: int = 10_000,
    ) -> Subscription:
        """``callback(event)`` on a dedicated thread, in publish order."""
        sub = _CallbackSubscription(
            self, callback, types=self._types(types), call_id=call_id, maxsize=maxsize
        )
        self._add(sub)
        return sub

    def subscribe_async(
        self,
        types: Iterable[EventType] | None = None,
        call_id: str | None = None,
        maxsize: int = 10_000,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> _AsyncSubscription:
        """``async for event in bus.subscribe_async(): ...`` on the running loop."""
        sub = _AsyncSubscription(
            self,
            loop or asyncio.get_running_loop(),
            types=self._types(types),
            call_id=call_id,
            maxsize=maxsize,
        )
        self._add(sub)
        return sub

    def _add(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.append(sub)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)
