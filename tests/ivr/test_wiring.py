"""start_navigator: what Runtime calls per call placed with an intent."""

from __future__ import annotations

from pathlib import Path

from engine.config import LlmSettings, ProfileSettings, Settings
from engine.events import EventBus
from engine.ivr import start_navigator
from engine.ivr.flow_store import FlowStore
from engine.store.database import HistoryStore
from tests.ivr.text_ivr import TextIvr

COMPANIES = Path(__file__).resolve().parents[2] / "assets" / "companies"


class FakeRuntime:
    def __init__(self, engine, store):
        self.engine, self.store = engine, store


def test_no_intent_no_navigation():
    assert start_navigator(object(), EventBus(), "c1", "  ", "Acme Bank", Settings()) is None


def test_runtime_wiring_navigates_and_learns_in_the_history_db(tmp_path):
    bus = EventBus()
    ivr = TextIvr(COMPANIES / "telco.yaml", bus)
    store = HistoryStore(tmp_path / "h.sqlite3")
    settings = Settings(profile=ProfileSettings(account_numbers={"default": "5551234567"}))
    session = start_navigator(FakeRuntime(ivr, store), bus, "c1", "my internet is down",
                              "Telco", settings)
    assert session.mode == "offline"
    ivr.start()
    result = session.wait(10)
    assert result.reached, ivr.visited
    assert FlowStore(store).find("Telco", "my internet is down") is not None
    again = start_navigator(FakeRuntime(ivr, store), bus, "c2", "My internet is down!",
                            "Telco", settings)
    assert again.mode == "replay"
    again.stop()


def test_llm_settings_pick_the_llm_navigator(tmp_path):
    settings = Settings(llm=LlmSettings(base_url="http://127.0.0.1:9", model="m"))
    session = start_navigator(TextIvr(COMPANIES / "telco.yaml", EventBus()), EventBus(), "c1",
                              "billing", "Telco", settings,
                              flows=FlowStore(HistoryStore(tmp_path / "h.sqlite3")))
    assert session.mode == "llm"
    session.stop()
    session.navigator.close()
