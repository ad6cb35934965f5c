"""The app's behaviour against a fake engine on the real event bus: keys reach the engine, a
person answering alerts once, only one hand-over happens at a time, the queue fills free
lines, settings save to the config file."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest
from tui_scenes import T0, make_app, publish, until

from engine.events import EventType
from holdslayer_tui.call_book import ENDED, HANDED_OVER, ON_HOLD, PERSON
from holdslayer_tui.screens.live_call import LiveCallScreen
from holdslayer_tui.screens.settings import widget_id

pytestmark = pytest.mark.timeout(60)


def run(coro) -> None:
    asyncio.run(coro)


def test_keys_on_the_live_screen_reach_the_engine(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.call_now("demo:acme_bank", "balance", "Acme Bank")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
            publish(fake_runtime, EventType.CALL_ANSWERED, "call1", T0 + 1)
            await pilot.press("1", "#")
            await until(pilot, lambda: app.book.get("call1").digits == "1#")
            assert fake_runtime.engine.digits == [("call1", "1"), ("call1", "#")]
            await pilot.press("h")  # an answered call: the first press only asks
            await pilot.pause(0.1)
            assert fake_runtime.engine.hangups == []
            assert "Press h again to hang up Acme Bank." in [n.message for n in app._notifications]
            await pilot.press("h")
            await until(pilot, lambda: app.book.get("call1").state == ENDED)
            assert fake_runtime.engine.hangups == ["call1"]

    run(go())


def test_one_stray_hang_up_key_does_not_lose_the_place_on_hold(fake_runtime) -> None:
    now = [T0 + 95.0]
    app = make_app(fake_runtime)
    app.clock = lambda: now[0]

    async def go() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.call_now("demo:acme_bank", "balance", "Acme Bank")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
            publish(fake_runtime, EventType.CALL_ANSWERED, "call1", T0 + 1)
            publish(fake_runtime, EventType.HOLD_DETECTED, "call1", T0 + 20)
            await until(pilot, lambda: app.book.get("call1").state == ON_HOLD)
            await pilot.press("h")
            assert "Press h again to hang up Acme Bank and your 1:15 on hold." in [
                n.message for n in app._notifications]
            now[0] += 5  # too late for a second press: it only asks again
            await pilot.press("h")
            await pilot.pause(0.1)
            assert fake_runtime.engine.hangups == []
            now[0] += 1
            await pilot.press("h")
            await until(pilot, lambda: fake_runtime.engine.hangups == ["call1"])
            # a call not yet answered (a misdial) goes at the first press
            app.call_now("demo:telco", "", "Nimbus Mobile")
            await until(pilot, lambda: getattr(app.screen, "call_id", "") == "call2")
            await pilot.press("h")
            await until(pilot, lambda: fake_runtime.engine.hangups == ["call1", "call2"])

    run(go())


def test_enter_after_the_number_goes_on_to_the_intent(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.screen.query_one("#target").focus()
            # a user who presses Enter after the number and then types what they want: the
            # words must become the intent, not keys on a live call ("ch..." hangs up)
            await pilot.press(*"demo:acme_bank", "enter", *"check my balance")
            assert fake_runtime.placed == []
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
            assert fake_runtime.placed == ["demo:acme_bank"]
            assert app.book.get("call1").intent == "check my balance"
            assert fake_runtime.engine.hangups == []
            # with no intent, Enter twice calls: the user presses the menu's keys
            await pilot.press("escape", "f2")
            app.screen.query_one("#target").focus()
            await pilot.press(*"demo:telco", "enter", "enter")
            await until(pilot, lambda: fake_runtime.placed[-1:] == ["demo:telco"])
            assert app.book.get("call2").intent == ""
            await pilot.press("escape", "f2")  # placed: the form is empty for the next call
            assert app.screen.query_one("#intent").value == ""
            assert app.screen.query_one("#target").value == ""

    run(go())


def test_a_menu_that_needs_the_users_account_number_alerts_them(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.call_now("demo:acme_bank", "dispute a charge", "Acme Bank")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
            publish(fake_runtime, EventType.CALL_ANSWERED, "call1", T0 + 1)
            publish(fake_runtime, EventType.IVR_STEP, "call1", T0 + 30, node_id="m1",
                    transcript="Please enter your 10 digit account number", options=[],
                    chosen="", needs_input="account_number", reason="the menu asks...")
            said = "Acme Bank asks for your account number: type it on its call screen now."
            await until(pilot, lambda: app.alerts == [said])
            assert any(said in w for w in app.terminal_writes)  # OSC 9 / 777: reaches SSH
            # the digits typed then answer that menu step
            await pilot.press(*"1234567890#")
            await until(pilot, lambda: app.book.get("call1").digits == "1234567890#")

    run(go())


def test_typing_on_the_company_list_starts_a_number(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            options = app.screen.query_one("#companies")
            options.focus()
            await pilot.pause()
            await pilot.press(*"1800", "space", *"flowers")
            assert app.screen.query_one("#target").value == "1800 flowers"
            assert app.focused is not None and app.focused.id == "target"

    run(go())


def test_a_call_that_cannot_be_placed_keeps_what_was_typed(fake_runtime, monkeypatch) -> None:
    def refuse(target: str, **_: object) -> str:
        raise ConnectionError("the SIP trunk did not answer")  # the number itself is fine

    monkeypatch.setattr(fake_runtime, "place_call", refuse)

    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.screen.query_one("#target").focus()
            await pilot.press(*"8005550100", "enter", *"cancel", "enter")
            await until(pilot, lambda: any(n.title == "Cannot call 8005550100"
                                           for n in app._notifications))
            await pilot.press("f2")
            assert app.screen.query_one("#target").value == "8005550100"
            assert app.screen.query_one("#intent").value == "cancel"

    run(go())


@pytest.mark.parametrize(("typed", "complaint"), [
    ("demo:telcopay my bill", "is not a phone number: unexpected ':'"),
    ("demo:acme", "there is no demo company 'acme': try demo:acme_bank, demo:airline"),
    ("555-12", "'555-12' has 5 digits"),
])  # fmt: skip
def test_a_bad_target_is_refused_before_it_is_queued_and_nothing_typed_is_lost(
        fake_runtime, typed: str, complaint: str) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            await until(pilot, lambda: app.screen.choices != [])
            app.screen.query_one("#target").value = typed
            app.screen.query_one("#intent").value = "pay my bill"
            await pilot.press("ctrl+o")
            await until(pilot, lambda: any(n.title == f"Cannot call {typed}"
                                           for n in app._notifications))
            said = next(n.message for n in app._notifications if n.title.startswith("Cannot"))
            assert complaint in said
            assert app.queue.entries == [] and fake_runtime.placed == []
            assert app.screen.query_one("#target").value == typed
            assert app.screen.query_one("#intent").value == "pay my bill"
            assert app.focused is not None and app.focused.id == "target"

    run(go())


def test_three_calls_only_one_handover_at_a_time(fake_runtime, monkeypatch) -> None:
    async def go() -> None:
        app = make_app(fake_runtime)
        app.settings.handover.mode = "phone"
        app.settings.handover.target = "sip:me@127.0.0.1"
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            for company in ("acme_bank", "telco", "airline"):
                app.add_to_queue(f"demo:{company}", "help", company)
            await until(pilot, lambda: len(app.book.calls) == 3)
            for cid in ("call1", "call2", "call3"):
                publish(fake_runtime, EventType.CALL_ANSWERED, cid, T0 + 1)
                publish(fake_runtime, EventType.HUMAN_DETECTED, cid, T0 + 50, evidence="voice")
            await until(pilot, lambda: len(app.alerts) == 3)
            # the first person gets the user's phone; the others are kept warm
            await until(pilot, lambda: fake_runtime.placed[3:] == ["sip:me@127.0.0.1"])
            states = {c.call_id: (c.state, c.handover) for c in app.book.calls.values()}
            assert states["call1"] == (HANDED_OVER, "active")
            assert states["call2"] == (PERSON, "waiting") == states["call3"]
            assert app.desk.active == "call1" and app.desk.waiting == ["call2", "call3"]
            # the user's phone answers: bridged to the first company only
            publish(fake_runtime, EventType.CALL_ANSWERED, "call4", T0 + 52)
            await until(pilot, lambda: fake_runtime.engine.bridged == [("call1", "call4")])
            # the first call ends: the next waiting one is handed over, never two at once
            publish(fake_runtime, EventType.CALL_ENDED, "call1", T0 + 90, reason="done")
            await until(pilot, lambda: app.desk.active == "call2")
            assert app.book.get("call2").state == HANDED_OVER
            assert app.book.get("call3").handover == "waiting"
            assert "call4" in fake_runtime.engine.hangups  # the old leg was hung up

    run(go())


def test_queue_places_calls_as_lines_free_up(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime, max_live_calls=1)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.add_to_queue("demo:acme_bank")
            app.add_to_queue("demo:telco")
            await until(pilot, lambda: fake_runtime.placed == ["demo:acme_bank"])
            publish(fake_runtime, EventType.CALL_ENDED, "call1", T0 + 5, reason="done")
            await until(pilot, lambda: fake_runtime.placed == ["demo:acme_bank", "demo:telco"])
            assert app.queue.entries == []

    run(go())


def test_settings_validate_as_typed_and_save(fake_runtime, private_paths: Path) -> None:
    config = private_paths / "config.toml"

    async def go() -> None:
        app = make_app(fake_runtime, config_file=config)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f6")
            await pilot.pause()
            app.screen.query_one(f"#{widget_id('sip.default_country')}").focus()
            await pilot.press("ctrl+a", "ctrl+k", *"44")
            app.screen.query_one(f"#{widget_id('profile.zip_code')}").focus()
            await pilot.press(*"94110")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: config.exists())
            await app.workers.wait_for_complete()

    run(go())
    data = tomllib.loads(config.read_text())
    assert data["sip"]["default_country"] == "44" and data["profile"]["zip_code"] == "94110"
    assert config.stat().st_mode & 0o777 == 0o600


def test_keys_can_be_remapped_by_binding_id(fake_runtime) -> None:
    async def go() -> None:
        app = make_app(fake_runtime, keymap={"hang-up": "x"})
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.engine_state == "ready")
            app.call_now("demo:acme_bank", "balance", "Acme Bank")
            await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
            publish(fake_runtime, EventType.CALL_ANSWERED, "call1", T0 + 1)
            await pilot.press("h", "h")  # the old key does nothing now
            await pilot.pause(0.1)
            assert fake_runtime.engine.hangups == []
            await pilot.press("x")
            assert "Press x again to hang up Acme Bank." in [n.message for n in app._notifications]
            await pilot.press("x")
            await until(pilot, lambda: fake_runtime.engine.hangups == ["call1"])

    run(go())
