"""Every screen in its main state, at 80x24 (an SSH window) and some at 120x34."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_scenes import T0, feed_levels, make_app, on_hold_call, publish, seed_history, until

from engine.events import EventType
from holdslayer_tui.screens.live_call import LiveCallScreen

pytestmark = pytest.mark.timeout(120)

SMALL = (80, 24)
LARGE = (120, 34)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_dial(snap_compare, fake_runtime, size) -> None:
    assert snap_compare(make_app(fake_runtime), run_before=settle, terminal_size=size)


def test_welcome_first_run(snap_compare, fake_runtime) -> None:
    assert snap_compare(make_app(fake_runtime, first_run=True), run_before=settle,
                        terminal_size=SMALL)


async def _live(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.engine_state == "ready")
    runtime = app.link.runtime
    on_hold_call(runtime)
    await until(pilot, lambda: app.book.get("call1") is not None
                and app.book.get("call1").queue_position == 4)
    feed_levels(app)
    app.open_call("call1")
    await until(pilot, lambda: isinstance(app.screen, LiveCallScreen))
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_live_call_on_hold(snap_compare, fake_runtime, size) -> None:
    assert snap_compare(make_app(fake_runtime), run_before=_live, terminal_size=size)


def test_live_call_person(snap_compare, fake_runtime) -> None:
    async def run_before(pilot) -> None:
        await _live(pilot)
        publish(fake_runtime, EventType.HUMAN_DETECTED, "call1", T0 + 80, evidence="voice",
                confidence=0.95)
        publish(fake_runtime, EventType.TRANSCRIPT_CHUNK, "call1", T0 + 82,
                text="Thank you for calling Acme Bank, this is Dana.", start=80.0, end=82.0)
        await until(pilot, lambda: pilot.app.book.get("call1").transcript[-1].endswith("Dana."))
        await pilot.pause(0.2)

    assert snap_compare(make_app(fake_runtime), run_before=run_before, terminal_size=SMALL)


def test_live_call_on_a_poor_line(snap_compare, fake_runtime) -> None:
    async def run_before(pilot) -> None:
        await _live(pilot)
        publish(fake_runtime, EventType.LINE_QUALITY, "call1", T0 + 80, codec="PCMU/8000",
                loss_pct=10.6, jitter_ms=12.0, grade="poor", window_s=5.0, rx_packets=4000,
                rx_lost=420)  # fmt: skip
        await until(pilot, lambda: pilot.app.book.get("call1").line_grade == "poor")
        await pilot.pause(0.2)

    assert snap_compare(make_app(fake_runtime), run_before=run_before, terminal_size=SMALL)


def test_calls_and_queue(snap_compare, fake_runtime) -> None:
    async def run_before(pilot) -> None:
        app = pilot.app
        await until(pilot, lambda: app.engine_state == "ready")
        app.max_live_calls = 2
        on_hold_call(fake_runtime)
        publish(fake_runtime, EventType.CALL_STARTED, "call2", T0 + 30, target="demo:telco",
                company="Nimbus Mobile", intent="cancel plan")
        publish(fake_runtime, EventType.CALL_ANSWERED, "call2", T0 + 31)
        publish(fake_runtime, EventType.LINE_QUALITY, "call2", T0 + 36, codec="GSM/8000",
                loss_pct=12.0, jitter_ms=9.0, grade="poor", window_s=5.0)
        await until(pilot, lambda: len(app.book.live()) == 2
                    and app.book.get("call2").line_grade == "poor")
        app.add_to_queue("demo:airline", "change my flight", "Skyward Air")
        app.add_to_queue("+1 800 555 0142", "refund", "")
        app.queue.toggle_pause(app.queue.entries[1].entry_id)
        await pilot.press("f3")
        await pilot.pause(0.2)

    assert snap_compare(make_app(fake_runtime), run_before=run_before, terminal_size=SMALL)


def test_quit_asks_when_calls_are_live(snap_compare, fake_runtime) -> None:
    async def run_before(pilot) -> None:
        await _live(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause(0.2)

    assert snap_compare(make_app(fake_runtime), run_before=run_before, terminal_size=SMALL)


@pytest.fixture
def history_runtime(fake_runtime, private_paths: Path):
    fake_runtime.store = seed_history(private_paths / "seeded.sqlite3")
    yield fake_runtime
    fake_runtime.store.close()


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_history(snap_compare, history_runtime, size) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settle(pilot)

    assert snap_compare(make_app(history_runtime), run_before=run_before, terminal_size=size)


def test_history_call_detail(snap_compare, history_runtime) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        await pilot.pause(0.2)

    assert snap_compare(make_app(history_runtime), run_before=run_before, terminal_size=SMALL)


@pytest.mark.parametrize("size", [SMALL, LARGE])
def test_analytics(snap_compare, history_runtime, size) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f5")
        await settle(pilot)
        await pilot.pause(0.2)

    assert snap_compare(make_app(history_runtime), run_before=run_before, terminal_size=size)


def test_settings(snap_compare, fake_runtime) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("f6")
        await pilot.pause(0.2)

    assert snap_compare(make_app(fake_runtime), run_before=run_before, terminal_size=SMALL)
