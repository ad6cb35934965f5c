"""A call with an intent is navigated for the user, until the user presses a key by hand."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.config import Settings
from engine.events import EventType
from engine.runtime import Runtime

from .conftest import read_log, wait_event

pytestmark = [pytest.mark.sip, pytest.mark.slow]


def test_a_key_pressed_by_hand_stops_automatic_navigation(tmp_path: Path) -> None:
    rt = Runtime(Settings(), history=False, notify=False, demo_log_dir=tmp_path,
                 demo_hold_seconds=30).start()
    try:
        events = rt.bus.subscribe_queue(types=[EventType.CALL_ANSWERED, EventType.IVR_STEP,
                                               EventType.IVR_DTMF_SENT])
        call = rt.place_call("demo:acme_bank", intent="I lost my credit card")
        wait_event(events, EventType.CALL_ANSWERED, call, timeout=120)
        time.sleep(1.0)
        rt.engine.send_dtmf(call, "0").result(5)  # the user wants a banker, now
        step = wait_event(events, EventType.IVR_STEP, call, timeout=10)
        assert "navigation stopped" in step.data["reason"]
        time.sleep(20)  # long enough for the menu to be heard and (wrongly) answered
        pressed = [e for e in events.drain() if e.type == EventType.IVR_DTMF_SENT]
        assert [e.data["source"] for e in pressed] == []  # nothing after the user's key
        log = read_log(tmp_path / "simulator_acme_bank.jsonl")
        assert [e["digit"] for e in log if e["event"] == "digit"] == ["0"]
    finally:
        rt.stop()


def test_keys_typed_for_a_prompt_the_navigator_asked_about_do_not_stop_it(
        tmp_path: Path) -> None:
    """The menu wants a flight number the profile lacks; the app tells the user to type it.
    Those keys answered the prompt, yet stopped the navigation as if the user took over."""
    rt = Runtime(Settings(), history=False, notify=False, demo_log_dir=tmp_path,
                 demo_hold_seconds=30).start()
    try:
        events = rt.bus.subscribe_queue(types=[EventType.IVR_STEP])
        call = rt.place_call("demo:airline", intent="the status of my flight")
        deadline = time.monotonic() + 90
        asked = None
        while asked is None and time.monotonic() < deadline:
            step = wait_event(events, EventType.IVR_STEP, call, timeout=90)
            asked = step if step.data.get("needs_input") == "flight_number" else None
        assert asked is not None
        rt.engine.send_dtmf(call, "123#").result(10)  # typed by the user
        time.sleep(2.0)
        reasons = [e.data.get("reason", "") for e in events.drain()]
        assert not any("navigation stopped" in r for r in reasons), reasons
        log = read_log(tmp_path / "simulator_airline.jsonl")
        assert [e["value"] for e in log if e["event"] == "input"] == ["123"]
    finally:
        rt.stop()
