"""Deterministic app states for snapshots and functional tests: a fixed clock, events with
fixed timestamps, a seeded history."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.events import Event, EventType
from holdslayer_tui.app import HoldSlayerApp

T0 = 1_780_000_000.0


def silence(text: str) -> np.ndarray:
    """A stand-in voice: tests of the UI need not load Piper (seconds of CPU each)."""
    return np.zeros(160, np.int16)


def make_app(runtime: Any, *, now: float = T0 + 95, **kw: Any) -> HoldSlayerApp:
    kw.setdefault("synthesize", silence)
    return HoldSlayerApp(runtime.settings, runtime_factory=lambda: runtime, clock=lambda: now,
                         **kw)


async def until(pilot: Any, cond: Callable[[], bool], timeout: float = 10.0,
                why: Callable[[], object] | None = None) -> None:
    """Wait for ``cond``; ``why`` says what the app looked like when it never came true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError("condition never became true"
                                 + (f": {why()}" if why is not None else ""))
        await pilot.pause(0.02)
    await pilot.pause()


def publish(runtime: Any, type_: EventType, call_id: str, at: float, **data: Any) -> None:
    runtime.bus.publish(Event(type_, call_id, data, timestamp=at))


def no_portaudio() -> Any:
    """A sounddevice loader on a machine without the PortAudio library."""
    raise OSError("PortAudio library not found")


async def live_call(pilot: Any, app: HoldSlayerApp, runtime: Any) -> Any:
    """Dial demo:acme_bank from the app and have the far end answer: call1, on its screen."""
    from holdslayer_tui.screens.live_call import LiveCallScreen

    await until(pilot, lambda: app.engine_state == "ready")
    app.call_now("demo:acme_bank", "balance", "Acme Bank")
    await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
    publish(runtime, EventType.CALL_ANSWERED, "call1", T0 + 1)
    await until(pilot, lambda: app.book.get("call1").live)
    return app.screen


def on_hold_call(runtime: Any, call_id: str = "call1", company: str = "Acme Bank",
                 target: str = "demo:acme_bank", t0: float = T0) -> None:
    """A call that went through one menu and has been on hold since t0+20."""
    publish(runtime, EventType.CALL_STARTED, call_id, t0, target=target, company=company,
            intent="dispute a charge", uri="sip:18005550100@127.0.0.1")
    publish(runtime, EventType.CALL_RINGING, call_id, t0 + 1)
    publish(runtime, EventType.CALL_ANSWERED, call_id, t0 + 2)
    publish(runtime, EventType.IVR_STEP, call_id, t0 + 9, node_id="main",
            transcript="For checking and savings press 1. To speak with a banker press 0.",
            options=[{"digit": "1", "label": "accounts"}, {"digit": "0", "label": "banker"}],
            reason="the intent needs a person")
    publish(runtime, EventType.IVR_DTMF_SENT, call_id, t0 + 10, digits="0", method="rfc2833")
    publish(runtime, EventType.TRANSCRIPT_CHUNK, call_id, t0 + 18,
            text="Please hold while we connect you.", start=16.0, end=18.0)
    publish(runtime, EventType.HOLD_DETECTED, call_id, t0 + 20, evidence="music", confidence=0.9)
    publish(runtime, EventType.TRANSCRIPT_CHUNK, call_id, t0 + 60,
            text="You are caller number 4. Your call is important to us.", start=58.0,
            end=60.0, queue={"position": 4, "wait_minutes": 6})


def feed_levels(app: HoldSlayerApp, call_id: str = "call1") -> None:
    for i in range(60):
        app.link.levels.update(call_id, -40 + 15 * ((i % 12) / 12), -20.0, "music")


def seed_history(db: Path) -> Any:
    """Six finished calls at fixed times (UTC), for History and Analytics."""
    from engine.analytics import CallAnalytics
    from engine.store.database import HistoryStore

    store = HistoryStore(db)
    a = CallAnalytics(store)
    day = 1_779_696_000.0  # a Monday 00:00 UTC
    rows = [
        ("Acme Bank", "+18005550100", "dispute a charge", 10, "success", 300, 40),
        ("Acme Bank", "+18005550100", "check balance", 10, "success", 420, 35),
        ("Acme Bank", "+18005550100", "lost card", 10, "hung_up", 600, 30),
        ("Nimbus Mobile", "+18005550199", "cancel plan", 14, "success", 900, 60),
        ("Skyward Air", "+18005550123", "change flight", 9, "failed", None, None),
        ("Skyward Air", "+18005550123", "refund", 16, "success", 1500, 90),
    ]
    for i, (company, number, intent, hour, outcome, hold, ivr) in enumerate(rows):
        a.record_call(company, number, intent=intent, started_at=day + i * 86400 * 0
                      + hour * 3600 + i * 60, outcome=outcome, hold_time=hold, ivr_time=ivr,
                      total_duration=(hold or 0) + (ivr or 0) + 20 if hold else 5,
                      call_id=f"seed{i}", cause="" if outcome != "failed" else "busy here")
    return store
