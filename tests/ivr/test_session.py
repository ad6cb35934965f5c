"""The per-call driver, against simulator companies heard as transcripts (no SIP): it gets to
the right queue, waits for a menu to finish, recovers from lost keys, answers data prompts,
stops at the queue, falls back from a failing LLM, learns the path and replays it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ProfileSettings
from engine.events import EventBus, EventType
from engine.ivr.flow_store import FlowStore
from engine.ivr.llm_client import LLMClient
from engine.ivr.llm_navigator import LLMNavigator
from engine.ivr.offline_navigator import OfflineNavigator
from engine.ivr.session import IvrSession
from engine.store.database import HistoryStore
from tests.ivr.chat_server import ChatServer, Reply, completion
from tests.ivr.text_ivr import TextIvr

SCENARIOS = Path(__file__).resolve().parents[2] / "assets" / "scenarios"
COMPANIES = Path(__file__).resolve().parents[2] / "assets" / "companies"
PROFILE = ProfileSettings(account_numbers={"default": "4417123456"}, zip_code="94110",
                          callback_number="4155550123")


def navigate(company: Path, intent: str, *, bus: EventBus | None = None, name: str = "",
             flows: FlowStore | None = None, navigator=None, **ivr_kw):
    bus = bus or EventBus()
    steps = bus.subscribe_queue(types=[EventType.IVR_STEP])
    ivr = TextIvr(company, bus, **ivr_kw)
    session = IvrSession(ivr, bus, "c1", intent, name or ivr.company.name, profile=PROFILE,
                         flows=flows, navigator=navigator, tts=ivr.tts).start()
    ivr.start()
    result = session.wait(10)
    session.stop()
    assert session.done, "navigation did not finish"
    return ivr, result, steps.drain(), session


def test_deep_bank_menu_reaches_the_disputes_queue():
    ivr, result, steps, session = navigate(COMPANIES / "acme_bank.yaml",
                                           "dispute a charge from Amazon on December 15th")
    assert ivr.visited == ["main", "cards", "disputes", "account_number", "queue"]
    assert result.reached and result.how == "hold"
    assert [d for d, _ in ivr.keys] == list("221") + list("4417123456")
    ivr_steps = [e.data for e in steps if e.data.get("source") != "detector"]
    assert [s["chosen"] for s in ivr_steps] == ["2", "2", "1", "<account_number>"]
    first = ivr_steps[0]
    assert {"node_id", "transcript", "options", "chosen", "reason", "elapsed"} <= set(first)
    assert "credit cards" in [o["label"] for o in first["options"]]
    assert "4417123456" not in str([e.data for e in steps])  # the account stays private
    tree = session.tree()
    assert tree["children"][0]["children"][0]["chosen"] == "2"
    assert steps[-1].data["node_id"] == "hold"  # the tree ends at the queue


def test_waits_for_the_rest_of_the_menu_before_choosing():
    # the menu arrives in two transcripts; the fitting option is in the second one
    ivr, result, _, _ = navigate(SCENARIOS / "homeshield_security.yaml",
                                 "my doorbell camera shows offline",
                                 split_at="For billing")
    assert ivr.visited[:2] == ["main", "service"]
    assert result.reached


def test_lost_key_is_resent_by_another_method():
    ivr, result, steps, _ = navigate(SCENARIOS / "northwind_power.yaml",
                                     "I want to pay my electric bill", drop=1)
    assert ivr.keys == [("2", "rfc2833"), ("2", "info")]
    assert ivr.visited == ["main", "q_billing"]
    retry = [e.data for e in steps][1]
    assert retry["attempt"] == 1 and "resending" in retry["reason"]


def test_key_never_taken_moves_on_to_next_best_then_operator():
    ivr, result, steps, _ = navigate(SCENARIOS / "bluepeak_wireless.yaml",
                                     "cancel my plan", drop=99)
    # rfc2833 keys vanish; the retry by INFO gets through
    assert ivr.visited == ["main", "q_retention"]
    assert ivr.keys[-1][1] == "info"


def test_stops_pressing_once_on_hold():
    ivr, result, _, _ = navigate(SCENARIOS / "northwind_power.yaml",
                                 "my power is out on my whole street")
    assert ivr.visited == ["main", "q_outage"] and len(ivr.keys) == 1


def test_invalid_option_is_retried_with_the_next_best():
    # a menu that rejects the first choice ("not a valid option") and plays again
    bus = EventBus()
    ivr = TextIvr(COMPANIES / "acme_bank.yaml", bus)
    original = ivr._digit
    rejected = []

    def reject_once(d):
        if not rejected and ivr.node.id == "main":
            rejected.append(d)
            ivr._say(ivr.node.invalid.text + " " + ivr.node.prompt.text)
            return
        original(d)

    ivr._digit = reject_once
    session = IvrSession(ivr, bus, "c1", "dispute a charge", "Acme Bank",
                         profile=PROFILE).start()
    ivr.start()
    session.wait(10)
    session.stop()
    assert rejected == ["2"]
    assert [k for k, _ in ivr.keys][:2] == ["2", "2"]  # same key again, by another method
    assert ivr.visited[-1] == "queue"


def test_llm_decides_and_offline_takes_over_when_it_fails():
    with ChatServer() as server:
        server.script(Reply(body=completion(tool_args={"action": "dtmf", "digits": "2",
                                                       "reasoning": "cards"})),
                      *[Reply(500, {"error": "down"})] * 6)
        nav = LLMNavigator(LLMClient(server.url, "m", timeout=2.0, retries=0),
                           OfflineNavigator(PROFILE))
        ivr, result, steps, _ = navigate(COMPANIES / "acme_bank.yaml", "dispute a charge",
                                         navigator=nav)
        nav.close()
    assert ivr.visited == ["main", "cards", "disputes", "account_number", "queue"]
    sources = [e.data["source"] for e in steps if e.data["source"] != "detector"]
    assert sources[0] == "llm"
    assert sources[1].startswith("offline (LLM failed)")
    assert sources[-1].startswith("offline")


def test_learned_flow_is_replayed_and_verified(tmp_path):
    flows = FlowStore(HistoryStore(tmp_path / "h.sqlite3"))
    company = COMPANIES / "acme_bank.yaml"
    first_ivr, first, _, _ = navigate(company, "dispute a charge", flows=flows)
    learned = flows.find("Acme Bank", "Dispute a charge.")
    assert learned is not None and learned.digits == "2,2,1,<account_number>"
    assert "4417123456" not in str(learned.steps)
    ivr, result, steps, _ = navigate(company, "dispute a charge", flows=flows)
    assert ivr.visited == first_ivr.visited
    assert result.replayed == 4 and not result.replay_diverged
    assert all(e.data["source"] == "replay" for e in steps[:4])
    assert flows.find("Acme Bank", "dispute a charge").successes == 2


def test_changed_menu_falls_back_to_navigating_and_updates_the_flow(tmp_path):
    flows = FlowStore(HistoryStore(tmp_path / "h.sqlite3"))
    navigate(COMPANIES / "acme_bank.yaml", "dispute a charge", flows=flows)
    # the bank reorganised its menu: cards moved to 4, with new words
    changed = tmp_path / "acme_bank_v2.yaml"
    text = (COMPANIES / "acme_bank.yaml").read_text()
    text = text.replace("For credit cards, press 2.", "For home loans, press 2.")
    text = text.replace("For loans and mortgages, press 3.",
                        "For all credit card services, press 4.")
    text = text.replace("      2: cards\n      3: loans", "      4: cards\n      2: loans")
    changed.write_text(text)
    ivr, result, _, _ = navigate(changed, "dispute a charge", flows=flows, name="Acme Bank")
    assert ivr.visited[-1] == "queue" and result.replay_diverged
    assert flows.find("Acme Bank", "dispute a charge").digits.startswith("4,")


@pytest.mark.parametrize("company,intent,queue", [
    ("beacon_telecom.yaml", "my home phone has no dial tone", "q_voice_repair"),
    ("metro_water.yaml", "question about my water bill", "q_billing"),
])
def test_data_prompts_along_the_way(company, intent, queue):
    ivr, result, _, _ = navigate(SCENARIOS / company, intent)
    assert ivr.visited[-1] == queue


class KeyRecorder:
    """An engine that only records keys (no company behind it)."""

    def __init__(self):
        self.keys = []

    def send_dtmf(self, call_id, digits, method=None, private=False, source="user"):
        from concurrent.futures import Future

        self.keys.append(digits)
        fut = Future()
        fut.set_result([])
        return fut

    def tap(self, call_id, direction="remote"):
        raise RuntimeError("no audio here")


def _replaying_session(tmp_path):
    flows = FlowStore(HistoryStore(tmp_path / "h.sqlite3"))
    navigate(COMPANIES / "acme_bank.yaml", "dispute a charge", flows=flows)
    engine, bus = KeyRecorder(), EventBus()
    session = IvrSession(engine, bus, "c1", "dispute a charge", "Acme Bank", profile=PROFILE,
                         flows=flows).start()
    assert session.mode == "replay"
    return engine, session


def _hear(session, text, from_start):
    import time

    session._inbox.put(("replay_heard", (text, session._verify.seq, from_start)))
    time.sleep(0.3)


def test_replay_presses_as_soon_as_the_learned_option_is_heard(tmp_path):
    engine, session = _replaying_session(tmp_path)
    _hear(session, "Thank you for calling Acme Bank. For checking", True)
    assert engine.keys == []  # the menu is recognised, the option not heard yet
    _hear(session, "accounts, press 1. For credit cards, press 2. For lo", False)
    assert engine.keys == ["2"]  # long before the menu ends
    _hear(session, "Credit cards. To report a", True)
    assert engine.keys == ["2"]  # too little heard to know the menu
    _hear(session, "stolen card, press 1. To dispute a charge, press 2.", False)
    assert engine.keys == ["2", "2"]
    session.stop()


def test_replay_presses_once_the_menu_is_recognised_from_its_opening(tmp_path):
    engine, session = _replaying_session(tmp_path)
    _hear(session, "Thank you for calling Acme Bank.", True)
    assert engine.keys == []  # the greeting alone could front a changed menu
    _hear(session, "Thank you for calling Acme Bank. For checking and savings accounts, "
          "press one.", True)
    assert engine.keys == ["2"]  # before "credit cards" is even said
    # a quick transcript loses the first word and hears "stole in": still the cards menu
    _hear(session, "cards. To report a lost or stole in card, press 1.", True)
    assert engine.keys == ["2", "2"] and session.mode == "replay"
    session.stop()


def test_replay_does_not_press_on_a_known_greeting_before_a_reordered_menu(tmp_path):
    engine, session = _replaying_session(tmp_path)
    _hear(session, "Thank you for calling Acme Bank. For loans and mortgages, press 1.", True)
    assert engine.keys == []
    session.stop()


def test_replay_leaves_the_flow_when_the_option_moved(tmp_path):
    engine, session = _replaying_session(tmp_path)
    _hear(session, "savings accounts, press 1. For credit card services, press 4. For home "
          "loans, press 2.", False)
    assert engine.keys == [] and session.mode != "replay"
    session.stop()


def test_replay_copes_with_misplaced_periods_in_a_window(tmp_path):
    engine, session = _replaying_session(tmp_path)
    _hear(session, "Thank you for calling Acme Bank", True)
    # what Whisper makes of "... accounts, press 1. For credit cards, press 2. For loans ..."
    _hear(session, "savings accounts. Press 1 for credit cards. Press 2 for loans", False)
    assert engine.keys == ["2"]
    session.stop()


def test_replay_leaves_the_flow_when_another_menu_plays(tmp_path):
    engine, session = _replaying_session(tmp_path)
    _hear(session, "Welcome to Nimbus Mobile. For billing and payments, press 1.", True)
    assert engine.keys == [] and session.result.replay_diverged
    session.stop()


def test_a_slow_transcript_of_the_menu_rest_is_waited_for():
    """Speech-to-text on a busy machine: the menu's end is transcribed seconds after the line
    went quiet. The driver must not act on the first part alone."""
    import time

    engine, bus = KeyRecorder(), EventBus()
    session = IvrSession(engine, bus, "c1", "lost baggage", "Cascade Airlines").start()
    bus.emit(EventType.CALL_ANSWERED, "c1")
    bus.emit(EventType.TRANSCRIPT_CHUNK, "c1", text="To book a new flight, press 1. To change "
             "or cancel a reservation, press 2.", start=1.0, end=5.0)
    for t in (5.6, 8.0, 9.0):  # the menu went on (speech), then ended at 9 s
        bus.emit(EventType.AUDIO_LEVEL, "c1", t=t, label="speech")
    for t in (9.5, 10.5, 11.5, 12.5):  # quiet while the rest is still being transcribed
        bus.emit(EventType.AUDIO_LEVEL, "c1", t=t, label="silence")
    time.sleep(0.4)
    assert engine.keys == []
    bus.emit(EventType.TRANSCRIPT_CHUNK, "c1", text="To book a new flight, press 1. To change "
             "or cancel a reservation, press 2. For lost or delayed baggage, press 3.",
             start=1.0, end=9.0)
    time.sleep(0.4)
    assert engine.keys == ["3"]
    session.stop()


def test_speech_menu_is_answered_by_voice_then_replayed(tmp_path):
    flows = FlowStore(HistoryStore(tmp_path / "h.sqlite3"))
    company = SCENARIOS / "sonic_cable.yaml"
    ivr, result, steps, _ = navigate(company, "my internet keeps dropping", flows=flows)
    assert ivr.said == ["technical support"] and [d for d, _ in ivr.keys] == ["1"]
    assert ivr.visited[-1] == "q_internet"
    assert steps[0].data["chosen"] == "say: technical support"
    again, result, _, _ = navigate(company, "my internet keeps dropping", flows=flows)
    assert again.said == ["technical support"] and again.visited == ivr.visited
    assert result.replayed == 2 and not result.replay_diverged


def test_replay_is_not_fooled_by_a_word_two_labels_share(tmp_path):
    """Learned: 1 "Nimbus Cloud Support for Sales", 2 "Technical Support". A window hearing
    "cloud support for sales. Press 1." is option 1 as learned, not support moved to 1."""
    flows = FlowStore(HistoryStore(tmp_path / "h.sqlite3"))
    from engine.ivr.flow_store import FlowStep

    flows.save("Nimbus", "servers down", [FlowStep(
        "nimbus cloud support for sales press 1 for technical support press 2",
        ["1", "2", "3"], ["Nimbus Cloud Support for Sales", "Technical Support", "Billing"],
        "2")])
    engine, bus = KeyRecorder(), EventBus()
    session = IvrSession(engine, bus, "c1", "servers down", "Nimbus", profile=PROFILE,
                         flows=flows).start()
    _hear(session, "cloud support for sales. Press 1.", False)
    assert session.mode == "replay" and not session.result.replay_diverged
    _hear(session, "for technical support. Press 2.", False)
    assert engine.keys == ["2"]
    session.stop()


def test_a_data_step_replayed_from_a_fragment_keeps_the_account_private(tmp_path):
    flows = FlowStore(HistoryStore(tmp_path / "h.sqlite3"))
    from engine.ivr.flow_store import FlowStep

    flows.save("Nimbus", "outage", [FlowStep("please enter your 10 digit customer number", [],
                                             [], "", kind="data", field="account_number")])
    engine, bus = KeyRecorder(), EventBus()
    steps = bus.subscribe_queue(types=[EventType.IVR_STEP])
    session = IvrSession(engine, bus, "c1", "outage", "Nimbus", profile=PROFILE,
                         flows=flows).start()
    _hear(session, "Please enter your 10-digit customer", True)
    assert engine.keys == ["4417123456"]
    published = [e.data for e in steps.drain()]
    assert published[0]["chosen"] == "<account_number>"
    assert "4417123456" not in str(published)
    session.stop()
