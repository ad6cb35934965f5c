"""The notifier's rules: event -> message and priority, per-channel minimum, per-call
de-duplication, never blocking the publisher, retries with backoff, history of each send."""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

import pytest

from engine.events import Event, EventBus, EventType
from engine.notify import Notification, Notifier, NotifySettings, Priority, message_for
from engine.notify.channels import Channel, ChannelError, PermanentChannelError, build_channels
from engine.notify.messages import NOTIFY_TYPES
from engine.notify.settings import ChannelSettings
from engine.store import HistoryStore


class ListChannel(Channel):
    """Collects what it is asked to send; can fail its first N sends or block."""

    def __init__(self, name: str, min_priority: Priority = Priority.LOW, *, fail_first: int = 0,
                 permanent: bool = False, gate: threading.Event | None = None) -> None:
        super().__init__(ChannelSettings(enabled=True, min_priority=min_priority, retries=2,
                                         backoff_s=0.05))
        self.name = name  # type: ignore[misc]
        self.sent: list[Notification] = []
        self.calls = 0
        self.fail_first = fail_first
        self.permanent = permanent
        self.gate = gate

    def send(self, notification: Notification, target: str) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        self.calls += 1
        if self.calls <= self.fail_first:
            raise (PermanentChannelError if self.permanent else ChannelError)("boom")
        self.sent.append(notification)


published: collections.Counter[int] = collections.Counter()


def emit(bus: EventBus, type_: EventType, call_id: str = "c1", **data: object) -> None:
    bus.publish(Event(type=type_, call_id=call_id, data=data))
    published[id(bus)] += type_ in NOTIFY_TYPES


def call_events(bus: EventBus, call_id: str = "c1") -> None:
    emit(bus, EventType.CALL_STARTED, call_id, company="Acme Bank", number="+18005550100")
    emit(bus, EventType.CALL_ANSWERED, call_id)
    emit(bus, EventType.IVR_STEP, call_id, node_id="main", transcript="For billing press 2",
         chosen="2")
    emit(bus, EventType.IVR_DTMF_SENT, call_id, digits="2", method="rfc2833")
    emit(bus, EventType.HOLD_DETECTED, call_id, evidence="music")
    emit(bus, EventType.HOLD_DETECTED, call_id, evidence="music again")
    emit(bus, EventType.HUMAN_DETECTED, call_id, evidence="greeting", confidence=0.9)
    emit(bus, EventType.HUMAN_DETECTED, call_id, evidence="still a person", confidence=0.95)
    emit(bus, EventType.TRANSFER_STARTED, call_id, target="sip:me@127.0.0.1")
    emit(bus, EventType.CALL_ENDED, call_id, reason="normal clearing", duration=754)


def wait_for(notifier: Notifier, bus: EventBus) -> None:
    """Until the notifier has taken every event published so far off the bus, and delivered."""
    assert notifier.wait_idle(20, events=published[id(bus)])


def test_message_table() -> None:
    ctx = {"company": "Acme Bank", "number": "+18005550100"}

    def msg(t: EventType, **data: object) -> Notification:
        n = message_for(Event(type=t, call_id="c", data=data), ctx)
        assert n is not None
        return n

    human = msg(EventType.HUMAN_DETECTED, confidence=0.92)
    assert human.priority is Priority.CRITICAL
    assert human.title == "Acme Bank: a person answered"
    assert "(confidence 92%)" in human.body
    assert msg(EventType.TRANSFER_STARTED, target="sip:me@x").priority is Priority.CRITICAL
    failed = msg(EventType.CALL_FAILED, reason="Busy Here", sip_code=486)
    assert (failed.priority, failed.body) == (Priority.HIGH, "Busy Here (SIP 486).")
    timeout = msg(EventType.CALL_ENDED, reason="no RTP for 10 s: timeout")
    assert timeout.priority is Priority.HIGH and "timed out" in timeout.title
    ended = msg(EventType.CALL_ENDED, reason="normal clearing", duration=754)
    assert ended.priority is Priority.NORMAL and ended.body == "normal clearing after 12:34."
    assert msg(EventType.HOLD_DETECTED).priority is Priority.NORMAL
    assert msg(EventType.IVR_STEP, transcript="press 2").priority is Priority.LOW
    assert msg(EventType.IVR_DTMF_SENT, digits="2").title == "Acme Bank: pressed 2"
    # missing keys and no context still give a sensible message
    bare = message_for(Event(type=EventType.CALL_FAILED, call_id="c"), {})
    assert bare is not None and bare.title == "Call to the call failed"
    assert message_for(Event(type=EventType.AUDIO_LEVEL, call_id="c"), ctx) is None


def test_priorities_dedupe_and_cleanup(tmp_path: Path) -> None:
    bus = EventBus()
    everything = ListChannel("all", Priority.LOW)
    urgent = ListChannel("urgent", Priority.CRITICAL)
    with HistoryStore(tmp_path / "h.sqlite3") as store, Notifier(
        bus, store=store, channels=[everything, urgent]
    ) as notifier:
        call_events(bus, "c1")
        wait_for(notifier, bus)
        titles = [n.title for n in everything.sent]
        assert sorted(titles) == sorted([
            "Acme Bank: phone menu",
            "Acme Bank: pressed 2",
            "Acme Bank: on hold",  # once, though detected twice
            "Acme Bank: a person answered",  # once
            "Acme Bank: transferring to you",
            "Call to Acme Bank ended",
        ])
        assert sorted(n.title for n in urgent.sent) == [
            "Acme Bank: a person answered", "Acme Bank: transferring to you",
        ]
        assert notifier._sent == {} and notifier._context == {}  # cleaned up at call end
        # a second call is its own: same events notify again
        call_events(bus, "c2")
        wait_for(notifier, bus)
        assert len(urgent.sent) == 4
        rows = store.notifications("c1")
        assert len(rows) == 8 and {r["status"] for r in rows} == {"sent"}
        assert {r["channel"] for r in rows} == {"all", "urgent"}


def test_failure_then_end_is_one_message() -> None:
    bus = EventBus()
    ch = ListChannel("all")
    with Notifier(bus, channels=[ch]) as notifier:
        emit(bus, EventType.CALL_STARTED, "c9", company="Telco")
        emit(bus, EventType.CALL_FAILED, "c9", reason="Busy Here", sip_code=486)
        emit(bus, EventType.CALL_ENDED, "c9", reason="Busy Here")
        wait_for(notifier, bus)
    assert [n.title for n in ch.sent] == ["Call to Telco failed"]


def test_retries_with_backoff_and_history(tmp_path: Path) -> None:
    bus = EventBus()
    flaky = ListChannel("flaky", fail_first=2)  # fails twice, third try works
    dead = ListChannel("dead", fail_first=99)  # 1 try + 2 retries, then gives up
    refused = ListChannel("refused", fail_first=99, permanent=True)  # no retries
    with HistoryStore(tmp_path / "h.sqlite3") as store, Notifier(
        bus, store=store, channels=[flaky, dead, refused]
    ) as notifier:
        t0 = time.monotonic()
        emit(bus, EventType.HUMAN_DETECTED, "c1")
        wait_for(notifier, bus)
        elapsed = time.monotonic() - t0
        rows = {r["channel"]: r for r in store.notifications("c1")}
    assert elapsed >= 0.05 + 0.1  # backoff doubled: 0.05 s then 0.1 s
    assert (rows["flaky"]["status"], rows["flaky"]["attempts"]) == ("sent", 3)
    assert (rows["dead"]["status"], rows["dead"]["attempts"], rows["dead"]["error"]) == (
        "failed", 3, "boom")
    assert (rows["refused"]["status"], rows["refused"]["attempts"]) == ("failed", 1)
    assert flaky.calls == 3 and dead.calls == 3 and refused.calls == 1


def test_slow_channel_never_blocks_publisher_or_other_channels() -> None:
    bus = EventBus()
    gate = threading.Event()
    stuck = ListChannel("stuck", gate=gate)
    fine = ListChannel("fine")
    notifier = Notifier(bus, channels=[stuck, fine])
    try:
        t0 = time.monotonic()
        for i in range(50):
            emit(bus, EventType.HUMAN_DETECTED, f"call-{i}")
        assert time.monotonic() - t0 < 0.5  # publish never waits on a channel
        deadline = time.monotonic() + 10
        while len(fine.sent) < 50 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(fine.sent) == 50 and stuck.sent == []
    finally:
        gate.set()
        notifier.close()
    assert len(stuck.sent) == 50


def test_build_channels_from_settings(caplog: pytest.LogCaptureFixture) -> None:
    settings = NotifySettings.model_validate({
        "desktop": {"enabled": False},
        "webhook": {"enabled": True, "url": "http://127.0.0.1:9/hook", "min_priority": "high"},
        "twilio": {"enabled": True, "account_sid": "AC1", "auth_token": "tok", "to": ["+1555"]},
        "ntfy": {"enabled": True},  # no topic: skipped, with a warning
    })
    names = [c.name for c in build_channels(settings)]
    assert names == ["webhook", "twilio"]
    assert "ntfy is enabled but not configured" in caplog.text
    assert settings.webhook.min_priority is Priority.HIGH
    with pytest.raises(ValueError, match="unknown priority"):
        NotifySettings.model_validate({"email": {"min_priority": "urgent-ish"}})
    assert NotifySettings().model_dump()["desktop"]["min_priority"] == "normal"
