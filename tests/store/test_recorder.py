"""Events from a real bus land in a real SQLite file as they happen."""

from __future__ import annotations

import pytest

from engine.events import Event, EventBus, EventType
from engine.store import HistoryRecorder, HistoryStore
from engine.store.recorder import RECORDED_TYPES

T0 = 1_700_000_000.0


def ev(type_: EventType, call_id: str, dt: float, **data: object) -> Event:
    return Event(type=type_, call_id=call_id, data=dict(data), timestamp=T0 + dt)


def publish_all(bus: EventBus, rec: HistoryRecorder, events: list[Event]) -> None:
    start = rec.written
    for e in events:
        bus.publish(e)
    assert rec.wait_for(start + sum(e.type in RECORDED_TYPES for e in events))


def test_full_call_is_recorded(bus: EventBus, store: HistoryStore) -> None:
    c = "call-1"
    with HistoryRecorder(bus, store) as rec:
        publish_all(bus, rec, [
            ev(EventType.CALL_STARTED, c, 0, target="demo:bank", uri="sip:bank@127.0.0.1",
               company="Acme Bank", intent="dispute a charge", number="+18005550100"),
            ev(EventType.CALL_RINGING, c, 1, sip_code=180),
            ev(EventType.CALL_ANSWERED, c, 2),
            ev(EventType.AUDIO_LEVEL, c, 2.5, rms=0.1),  # not history
            ev(EventType.IVR_STEP, c, 10, node_id="main", transcript="For cards press 1",
               options=[{"digit": "1", "label": "cards"}], chosen="1", reason="cards"),
            ev(EventType.IVR_DTMF_SENT, c, 11, digits="1", method="rfc2833"),
            ev(EventType.IVR_STEP, c, 20, node_id="cards", transcript="Disputes press 3",
               options=["3"], chosen="3", reason="dispute"),
            ev(EventType.IVR_DTMF_SENT, c, 21, digits="3", method="rfc2833"),
            ev(EventType.HOLD_DETECTED, c, 30, evidence="music"),
            ev(EventType.HOLD_DETECTED, c, 90, evidence="music again"),  # first one counts
            ev(EventType.TRANSCRIPT_CHUNK, c, 400, text="your call is important", start=399.0,
               end=400.0, speaker="company"),
            ev(EventType.HUMAN_DETECTED, c, 630, evidence="greeting", confidence=0.93),
            ev(EventType.TRANSCRIPT_CHUNK, c, 632, text="this is Dana", speaker="agent"),
            ev(EventType.TRANSFER_STARTED, c, 633, target="sip:me@127.0.0.1"),
            ev(EventType.RECORDING_STOPPED, c, 700, path="/rec/call_1_mixed.wav", duration=698.0,
               file_size=22_336_044, kind="mixed"),
            ev(EventType.LINE_QUALITY, c, 695, codec="PCMU/8000", loss_pct=9.0, jitter_ms=8.0,
               grade="poor", window_s=5.0, rx_packets=31_000, rx_lost=3_400),
            ev(EventType.CALL_ENDED, c, 700, reason="normal clearing", sip_code=200, duration=698,
               codec="PCMU/8000", rx_packets=31_250, rx_lost=3_472, rx_loss_pct=10.0),
        ])
    call = store.get_call(c)
    assert call is not None
    assert call["company"] == "Acme Bank" and call["number"] == "+18005550100"
    assert call["intent"] == "dispute a charge" and call["uri"] == "sip:bank@127.0.0.1"
    assert call["outcome"] == "success"
    assert call["cause"] == "normal clearing" and call["sip_code"] == 200
    assert call["answered_at"] == T0 + 2
    assert call["hold_started_at"] == T0 + 30
    assert call["human_at"] == T0 + 630
    assert call["ivr_seconds"] == pytest.approx(28)  # answered -> hold
    assert call["hold_seconds"] == pytest.approx(600)  # hold -> human
    assert call["total_seconds"] == pytest.approx(700)
    assert call["digits"] == "1 3"
    assert [s["node_id"] for s in call["ivr_steps"]] == ["main", "cards"]
    assert call["ivr_steps"][0]["options"] == [{"digit": "1", "label": "cards"}]
    assert [t["text"] for t in call["transcript"]] == ["your call is important", "this is Dana"]
    assert call["transcript"][0]["start"] == 399.0
    assert call["recordings"][0]["file_size"] == 22_336_044
    assert call["codec"] == "PCMU/8000" and call["rx_loss_pct"] == 10.0  # why words were garbled
    flows = store.flows("Acme Bank")
    assert flows[0]["digits"] == "1 3" and flows[0]["nodes"] == ["main", "cards"]
    assert flows[0]["intent"] == "dispute a charge"


def test_failed_and_abandoned_calls(bus: EventBus, store: HistoryStore) -> None:
    with HistoryRecorder(bus, store) as rec:
        publish_all(bus, rec, [
            ev(EventType.CALL_STARTED, "busy", 0, company="Telco", number="+18005550200"),
            ev(EventType.CALL_FAILED, "busy", 3, reason="Busy Here", sip_code=486),
            ev(EventType.CALL_ENDED, "busy", 3.1, reason="Busy Here", sip_code=486),
            ev(EventType.CALL_STARTED, "gaveup", 10, company="Telco"),
            ev(EventType.CALL_ANSWERED, "gaveup", 12),
            ev(EventType.HOLD_DETECTED, "gaveup", 40),
            ev(EventType.CALL_ENDED, "gaveup", 100, reason="user hung up"),
        ])
    busy = store.get_call("busy")
    assert busy is not None
    assert (busy["outcome"], busy["cause"], busy["sip_code"]) == ("failed", "Busy Here", 486)
    assert busy["ended_at"] == T0 + 3  # the failure closed it; the later end changed nothing
    assert busy["hold_seconds"] is None and busy["ivr_seconds"] is None
    gaveup = store.get_call("gaveup")
    assert gaveup is not None
    assert gaveup["outcome"] == "hung_up"
    assert gaveup["hold_seconds"] == pytest.approx(60)  # waited on hold until hanging up
    assert gaveup["ivr_seconds"] == pytest.approx(28)
    assert store.flows("Telco") == []


def test_missing_keys_and_late_attach(bus: EventBus, store: HistoryStore) -> None:
    """A recorder attached mid-call, and payloads with missing or odd values, still record."""
    with HistoryRecorder(bus, store) as rec:
        publish_all(bus, rec, [
            ev(EventType.IVR_STEP, "late", 5),
            ev(EventType.IVR_DTMF_SENT, "late", 6),
            ev(EventType.TRANSCRIPT_CHUNK, "late", 7, text=None, start="x"),
            ev(EventType.RECORDING_STOPPED, "late", 8, file_size="big"),
            ev(EventType.CALL_ENDED, "late", 9),
            Event(type=EventType.REGISTRATION_STATE, call_id="", data={"state": "ok"}),
        ])
    call = store.get_call("late")
    assert call is not None
    assert call["started_at"] == T0 + 5 and call["outcome"] == "failed"  # never answered
    assert len(call["ivr_steps"]) == 1 and call["transcript"][0]["start"] is None
    assert call["recordings"][0]["file_size"] is None


def test_max_history_prunes_on_call_end(bus: EventBus, store: HistoryStore) -> None:
    with HistoryRecorder(bus, store, max_history=2) as rec:
        for i in range(4):
            publish_all(bus, rec, [
                ev(EventType.CALL_STARTED, f"c{i}", i * 100, company="Acme"),
                ev(EventType.CALL_ENDED, f"c{i}", i * 100 + 50),
            ])
    assert [c["call_id"] for c in store.list_calls()] == ["c3", "c2"]


def test_a_call_still_going_shows_its_hold_and_time_so_far(bus: EventBus, store: HistoryStore,
                                                           capsys: pytest.CaptureFixture[str],
                                                           ) -> None:
    """The row has no durations until the call ends: history showed '—' for a call where a
    person had already answered after 9 minutes on hold."""
    from engine.store.cli import _print_call
    from engine.store.models import so_far

    c = "call-live"
    with HistoryRecorder(bus, store) as rec:
        publish_all(bus, rec, [
            ev(EventType.CALL_STARTED, c, 0, target="demo:bank", company="Acme Bank"),
            ev(EventType.CALL_ANSWERED, c, 2),
            ev(EventType.HOLD_DETECTED, c, 30),
            ev(EventType.HUMAN_DETECTED, c, 570, evidence="greeting"),
            ev(EventType.LINE_QUALITY, c, 600, codec="PCMU/8000", loss_pct=0.0, grade="good"),
        ])  # fmt: skip
    call = store.get_call(c)
    assert call["ended_at"] is None and call["hold_seconds"] is None
    assert so_far(call) == (540.0, 600.0)
    _print_call(call)
    assert "hold 9:00, total 10:00" in capsys.readouterr().out
    finished = {**call, "ended_at": T0 + 700, "hold_seconds": 540.0, "total_seconds": 700.0}
    assert so_far(finished) == (540.0, 700.0)  # an ended call keeps what was recorded
