"""Whole user journeys against the real company simulator over loopback SIP, driven from the
keyboard: dial a demo company, see it answered, press digits that reach the simulator, hang up,
find the call in history; quit with a call live hangs it up first."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_scenes import until

from engine.config import Settings
from holdslayer_tui.app import HoldSlayerApp
from holdslayer_tui.call_book import ENDED, MENU
from holdslayer_tui.engine_link import real_runtime_factory
from holdslayer_tui.screens.dial import DialScreen
from holdslayer_tui.screens.history import HistoryScreen
from holdslayer_tui.screens.live_call import LiveCallScreen

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(240)]


def sim_log(log_dir: Path, company: str = "acme_bank") -> list[dict]:
    path = log_dir / f"simulator_{company}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def real_app(log_dir: Path) -> HoldSlayerApp:
    settings = Settings()
    return HoldSlayerApp(settings, runtime_factory=real_runtime_factory(
        settings, demo_hold_seconds=3, demo_log_dir=log_dir))


async def dial_acme_from_keyboard(pilot, app: HoldSlayerApp) -> str:
    await until(pilot, lambda: app.engine_state == "ready", timeout=30)
    assert isinstance(app.screen, DialScreen)
    await until(pilot, lambda: app.screen.choices != [], timeout=10)
    app.screen.query_one("#companies").focus()
    await pilot.press("down")  # highlight the first company: Acme Bank
    await pilot.press("enter")  # fills the target, focuses the intent
    await pilot.press(*"check balance")
    await pilot.press("enter")  # call now
    await until(pilot, lambda: isinstance(app.screen, LiveCallScreen), timeout=60)
    call_id = app.screen.call_id
    await until(pilot, lambda: app.book.get(call_id).state == MENU, timeout=30)
    return call_id


def test_dial_press_digits_hang_up_history(tmp_path: Path) -> None:
    asyncio.run(_dial_press_digits_hang_up_history(tmp_path))


async def _dial_press_digits_hang_up_history(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        call_id = await dial_acme_from_keyboard(pilot, app)
        call = app.book.get(call_id)
        assert call.company == "Acme Bank" and call.intent == "check balance"
        await pilot.press("1")
        await until(pilot, lambda: call.digits == "1", timeout=10)
        await until(pilot, lambda: any(e["event"] == "digit" for e in sim_log(tmp_path)),
                    timeout=10)
        digits = [e for e in sim_log(tmp_path) if e["event"] == "digit"]
        assert [(d["digit"], d["method"]) for d in digits] == [("1", "rfc2833")]
        assert any(e["event"] == "node" and e["node"] == "accounts" for e in sim_log(tmp_path))
        await pilot.press("h", "h")  # answered: a second press hangs up
        await until(pilot, lambda: call.state == ENDED, timeout=10)
        await until(pilot, lambda: any(e["event"] == "hangup" and e["by"] == "caller"
                                       for e in sim_log(tmp_path)), timeout=10)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        table = app.screen.query_one("#history-table", DataTable)
        await until(pilot, lambda: table.row_count >= 1, timeout=10)
        row = dict(zip((c.label.plain for c in table.columns.values()),
                       table.get_row(call_id), strict=True))
        assert (row["Company"], row["Intent"], row["Outcome"]) == (
            "Acme Bank", "check balance", "hung up")


def test_quit_with_live_call_hangs_up_within_two_seconds(tmp_path: Path) -> None:
    asyncio.run(_quit_with_live_call(tmp_path))


async def _quit_with_live_call(tmp_path: Path) -> None:
    app = real_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        call_id = await dial_acme_from_keyboard(pilot, app)
        await pilot.press("ctrl+q")
        await pilot.pause(0.1)
        assert app.book.get(call_id).live  # it asked first; nothing hung up yet
        started = time.monotonic()
        await pilot.press("y")
        await until(pilot, lambda: app._exit, timeout=5)
        exit_requested = time.monotonic() - started
    assert exit_requested < 2.0
    assert app.book.get(call_id).state == ENDED
    hangups = [e for e in sim_log(tmp_path) if e["event"] == "hangup"]
    assert hangups and hangups[0]["by"] == "caller"
