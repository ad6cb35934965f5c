"""USER_ACTION ("Take call" / "Hang up" pressed on the desktop notification) does what the
keys ``t`` / ``h`` do, in the TUI and in ``holdslayer call``. The press itself, through a real
notification server, is tested in tests/store/notify/test_desktop.py."""

from __future__ import annotations

import argparse
import asyncio
import threading

import pytest
from tui_scenes import T0, live_call, make_app, no_portaudio, publish, until

from engine.call_cli import _follow
from engine.events import EventType
from holdslayer_tui.call_book import ENDED, HANDED_OVER, PERSON
from holdslayer_tui.local_audio import LocalAudio
from holdslayer_tui.screens.live_call import LiveCallScreen

pytestmark = pytest.mark.timeout(60)


async def person_on_the_line(pilot, app, fake_runtime) -> None:
    await live_call(pilot, app, fake_runtime)
    publish(fake_runtime, EventType.HUMAN_DETECTED, "call1", T0 + 50, evidence="voice")
    await until(pilot, lambda: app.alerts != [])


def test_hang_up_pressed_on_the_desktop_hangs_up_that_call(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await person_on_the_line(pilot, app, fake_runtime)
            app.call_now("demo:telco", "help", "Nimbus Mobile")  # another live call: untouched
            await until(pilot, lambda: app.book.get("call2") is not None)
            publish(fake_runtime, EventType.USER_ACTION, "call1", T0 + 52,
                    action="hang_up", source="desktop")
            await until(pilot, lambda: app.book.get("call1").state == ENDED)
            assert fake_runtime.engine.hangups == ["call1"]
            assert app.book.get("call2").live
            # a second press on the stale notification does nothing more
            publish(fake_runtime, EventType.USER_ACTION, "call1", T0 + 53,
                    action="hang_up", source="desktop")
            await pilot.pause(0.2)
            assert fake_runtime.engine.hangups == ["call1"]

    asyncio.run(go())


def test_take_call_pressed_on_the_desktop_hands_the_call_over(fake_runtime,
                                                             monkeypatch) -> None:
    monkeypatch.setattr("holdslayer_tui.app.KEEP_WARM_PROMPTS", ())

    async def go() -> None:
        app = make_app(fake_runtime, local_audio=LocalAudio(no_portaudio))
        async with app.run_test(size=(80, 24)) as pilot:
            await person_on_the_line(pilot, app, fake_runtime)
            # no hand-over route configured: the alert only reserved the user, like before `t`
            assert app.book.get("call1").state == PERSON
            publish(fake_runtime, EventType.USER_ACTION, "call1", T0 + 52,
                    action="take_call", source="desktop")
            await until(pilot, lambda: app.book.get("call1").state == HANDED_OVER)
            assert app.desk.active == "call1"
            assert fake_runtime.engine.hangups == []
            assert "Hand-over" in [n.title for n in app._notifications]

    asyncio.run(go())


def test_clicking_the_notification_brings_its_call_into_view(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await person_on_the_line(pilot, app, fake_runtime)
            app.call_now("demo:telco", "help", "Nimbus Mobile")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen)
                        and app.screen.call_id == "call2")
            publish(fake_runtime, EventType.USER_ACTION, "call1", T0 + 52,
                    action="show_call", source="desktop")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen)
                        and app.screen.call_id == "call1")
            assert app.book.get("call1").state == PERSON  # shown, nothing else done
            assert fake_runtime.engine.hangups == []

    asyncio.run(go())


class _Engine:
    def __init__(self) -> None:
        self.hangups: list[tuple[str, str]] = []

    def hangup(self, call_id: str, reason: str):
        from concurrent.futures import Future

        self.hangups.append((call_id, reason))
        fut: Future = Future()
        fut.set_result(True)
        return fut


def test_headless_call_hangs_up_on_hang_up_pressed(fake_runtime) -> None:
    """``holdslayer call`` follows its call's events; "Hang up" on the notification ends it
    (a press for another call id is ignored)."""
    bus = fake_runtime.bus
    rt = argparse.Namespace(engine=_Engine())
    args = argparse.Namespace(digits="", digits_delay=1.0, max_seconds=0,
                              hangup_after_digits=None, dtmf_method=None)
    events = bus.subscribe_queue(types=[EventType.CALL_ANSWERED, EventType.CALL_ENDED,
                                        EventType.CALL_FAILED, EventType.USER_ACTION])
    bus.emit(EventType.CALL_ANSWERED, "c1")
    bus.emit(EventType.USER_ACTION, "other", action="hang_up", source="desktop")
    bus.emit(EventType.USER_ACTION, "c1", action="take_call", source="desktop")
    bus.emit(EventType.USER_ACTION, "c1", action="hang_up", source="desktop")
    status: list[int] = []
    follower = threading.Thread(
        target=lambda: status.append(_follow(rt, "c1", events, args, threading.Event())))
    follower.start()
    try:
        for _ in range(100):
            if rt.engine.hangups:
                break
            follower.join(0.05)
        assert rt.engine.hangups == [("c1", "hung up by user (desktop)")]
    finally:
        bus.emit(EventType.CALL_ENDED, "c1", reason="hung up by user (desktop)")
        follower.join(5)
    assert status == [0]
