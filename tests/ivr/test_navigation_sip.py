"""End to end over real SIP: the simulator plays a scenario company (Piper voices), this
process hears it with the audio analyzer (offline Whisper) and navigates with engine.ivr.
The simulator's ground-truth log says which queue the call reached; the learned flow's
replay must reach the same queue at least twice as fast."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest
import yaml

from engine.config import LlmSettings, ProfileSettings, Settings, SipSettings
from engine.demo import DemoCompany
from engine.events import EventBus
from engine.ivr.flow_store import FlowStore
from engine.sip.engine import SipEngine
from engine.store.database import HistoryStore

pytestmark = [pytest.mark.sip, pytest.mark.slow]

_BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_navigation.py"
_spec = importlib.util.spec_from_file_location("bench_navigation", _BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
SCENARIOS, one_call = bench.SCENARIOS, bench.one_call

INDEX = yaml.safe_load((SCENARIOS / "scenarios.yaml").read_text())


def _offline_then_replay(company: str, intent_no: int = 0) -> tuple[dict, dict, dict, Path]:
    entry = next(e for e in INDEX["scenarios"] if e["company"] == company)
    intent = entry["intents"][intent_no]
    work = Path(tempfile.mkdtemp(prefix="nav-sip-"))
    log_path = work / "sim.jsonl"
    settings = Settings(profile=ProfileSettings(**INDEX["profile"]), llm=LlmSettings())
    flows = FlowStore(HistoryStore(work / "h.sqlite3"))
    bus = EventBus()
    engine = SipEngine(bus, SipSettings()).start()
    demo = DemoCompany(str(SCENARIOS / entry["file"]), log_path=log_path, hold_seconds=30,
                       startup_timeout=600).start()
    try:
        first = one_call(engine, bus, demo.uri, entry, intent["intent"], settings, flows,
                         False, log_path, 1, 120)
        again = one_call(engine, bus, demo.uri, entry, intent["intent"], settings, flows,
                         True, log_path, 2, 120)
    finally:
        demo.stop()
        engine.stop()
    # shown in full when a test fails (pytest truncates assertion messages)
    print("first call:", json.dumps(first, indent=1, default=str))
    print("replay call:", json.dumps(again, indent=1, default=str))
    print("simulator stderr tail:", demo.stderr_tail)
    return intent, first, again, log_path


def test_offline_then_replay_reach_the_queue_over_sip():
    intent, first, again, _ = _offline_then_replay("bluepeak_wireless")
    assert first["queue"] == intent["queue"], first
    assert again["queue"] == intent["queue"] and again["mode"] == "replay", again
    assert again["keys"] == first["keys"]
    assert all(st["source"] == "replay" for st in again["steps"]), again
    # someone who knows the menu by heart: pressing once each menu is recognised
    assert again["seconds"] * 2 <= first["seconds"], (first, again)


def test_a_speech_menu_is_answered_by_voice_over_sip():
    """Sonic Cable's first menu takes no keys: the navigator says "technical support" (Piper,
    into the call) and the simulator hears it (Whisper) before the keypad menu behind it."""
    intent, first, again, log_path = _offline_then_replay("sonic_cable")
    assert first["queue"] == intent["queue"], first
    assert again["queue"] == intent["queue"] and again["mode"] == "replay", again
    heard = [r for r in bench.read_log(log_path) if r["event"] == "speech"]
    assert [r["matched"] for r in heard] == ["tech", "tech"], heard
    assert again["seconds"] < first["seconds"], (first, again)
