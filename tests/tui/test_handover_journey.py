"""Hand-over for real: a person answers at the demo company, the app rings the user's phone
(a second PJSUA2 process on loopback standing in for it), and once the phone answers the two
calls are bridged: the phone hears the agent. Then the call shows in history and analytics."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tui_scenes import until

from engine.config import HandoverSettings, Settings
from engine.events import EventType
from holdslayer_tui.app import HoldSlayerApp
from holdslayer_tui.call_book import HANDED_OVER, MENU
from holdslayer_tui.engine_link import real_runtime_factory
from holdslayer_tui.screens.live_call import LiveCallScreen

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(240)]
PEER = Path(__file__).resolve().parents[1] / "sip" / "answer_peer.py"


class Phone:
    """The user's phone: auto-answers and reports how loud what it hears is."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(PEER), "440"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        self.lines: list[dict] = []
        ready = self.next_line(30)
        assert ready and ready["event"] == "ready"
        self.uri = f"sip:me@127.0.0.1:{ready['port']}"

    def next_line(self, timeout: float) -> dict | None:
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return None
        line = self.proc.stdout.readline()
        if not line.startswith("{"):
            return None
        self.lines.append(json.loads(line))
        return self.lines[-1]

    def drain(self) -> None:
        while self.next_line(0) is not None:
            pass

    def close(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(5)


def test_person_answers_and_the_call_is_bridged_to_my_phone(tmp_path: Path) -> None:
    phone = Phone()
    try:
        asyncio.run(_journey(tmp_path, phone))
    finally:
        phone.close()


def _company_side(app: HoldSlayerApp, log_dir: Path) -> str:
    """What the demo company logged and printed: a failure here has been rare enough that
    its own account is the only one there will be."""
    log = log_dir / "simulator_telco.jsonl"
    lines = log.read_text().splitlines()[-25:] if log.exists() else ["(no log)"]
    demo = app.link.runtime.running_demo("telco")
    return "\n".join(["simulator log:", *lines, "simulator stderr:",
                      demo.stderr_tail[-6000:] if demo else "(not started)"])


async def _journey(tmp_path: Path, phone: Phone) -> None:
    settings = Settings(handover=HandoverSettings(mode="phone", target=phone.uri))
    app = HoldSlayerApp(settings, runtime_factory=real_runtime_factory(
        settings, demo_hold_seconds=15, demo_log_dir=tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.engine_state == "ready", timeout=30)
        await pilot.press("tab")
        await pilot.press(*"demo:telco", "enter", "enter")  # no intent: we press by hand
        await until(pilot, lambda: isinstance(app.screen, LiveCallScreen), timeout=60)
        call = app.book.get(app.screen.call_id)
        await until(pilot, lambda: call.state == MENU, timeout=30)
        seen: list[EventType] = []
        app.link.runtime.bus.subscribe(lambda e: seen.append(e.type), types=[
            EventType.HUMAN_DETECTED], call_id=call.call_id)
        await pilot.press("1")
        await until(pilot, lambda: EventType.HUMAN_DETECTED in seen, timeout=90,
                    why=lambda: (call.state, call.digits, call.end_reason, call.transcript[-6:],
                                 _company_side(app, tmp_path)))
        # the app rings my phone by itself and bridges when it answers
        await until(pilot, lambda: any(d["event"] == "answered" for d in phone.lines)
                    or bool(phone.next_line(0)), timeout=30)
        await until(pilot, lambda: call.state == HANDED_OVER, timeout=30)
        loud = False
        for _ in range(80):  # ~8 s: the agent's voice reaches my phone through the bridge
            await pilot.pause(0.1)
            phone.drain()
            loud = any(d["event"] == "heard" and d["rms"] > 300 for d in phone.lines[-10:])
            if loud:
                break
        assert loud, phone.lines[-10:]
        await pilot.press("h", "h")
        await until(pilot, lambda: not call.live, timeout=15)
        store = app.link.runtime.store
        rows = store.list_calls(limit=5)
        assert [r["call_id"] for r in rows] == [call.call_id]  # my phone's leg is part of it
        assert rows[0]["human_at"] is not None and rows[0]["transferred_at"] is not None
