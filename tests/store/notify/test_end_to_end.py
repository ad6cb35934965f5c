"""One bus, the history recorder and the notifier together, as the app wires them: a call's
notifications (sent and failed) show up in that call's history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.events import EventBus, EventType
from engine.notify import Notifier, NotifySettings
from engine.notify.messages import NOTIFY_TYPES
from engine.store import HistoryRecorder, HistoryStore
from engine.store.recorder import RECORDED_TYPES


def test_call_history_lists_its_notifications(http_server: Any, tmp_path: Path) -> None:
    settings = NotifySettings.model_validate({
        "desktop": {"enabled": False},
        "webhook": {"enabled": True, "url": http_server.url, "secret": "k", "min_priority": "low"},
        "ntfy": {"enabled": True, "server": "http://127.0.0.1:9", "topic": "t", "retries": 0,
                 "min_priority": "critical"},
    })
    bus = EventBus()
    events = [
        (EventType.CALL_STARTED, {"company": "Acme Bank", "number": "+18005550100"}),
        (EventType.CALL_ANSWERED, {}),
        (EventType.HOLD_DETECTED, {"evidence": "music"}),
        (EventType.HUMAN_DETECTED, {"confidence": 0.9}),
        (EventType.CALL_ENDED, {"reason": "normal clearing", "duration": 60}),
    ]
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        recorder = HistoryRecorder(bus, store)
        notifier = Notifier(bus, settings, store=store)
        for type_, data in events:
            bus.emit(type_, "e2e", **data)
        assert recorder.wait_for(sum(t in RECORDED_TYPES for t, _ in events))
        assert notifier.wait_idle(20, events=sum(t in NOTIFY_TYPES for t, _ in events))
        notifier.close()
        recorder.close()
        call = store.get_call("e2e")
    assert call is not None and call["outcome"] == "success"
    sent = sorted((n["channel"], n["title"], n["status"]) for n in call["notifications"])
    assert sent == [
        ("ntfy", "Acme Bank: a person answered", "failed"),  # nothing listens on port 9
        ("webhook", "Acme Bank: a person answered", "sent"),
        ("webhook", "Acme Bank: on hold", "sent"),
        ("webhook", "Call to Acme Bank ended", "sent"),
    ]
    assert len(http_server.requests) == 3
