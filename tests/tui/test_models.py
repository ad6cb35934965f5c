"""The UI's pure models: call states from events, the queue, one hand-over at a time, the
terminal alert escapes, settings validation."""

from __future__ import annotations

from engine.config import Settings
from engine.events import Event, EventType
from holdslayer_tui.call_book import ENDED, FAILED, MENU, ON_HOLD, PERSON, RINGING, CallBook
from holdslayer_tui.call_queue import CallQueue
from holdslayer_tui.handover import HandoverDesk
from holdslayer_tui.screens.settings import validate
from holdslayer_tui.terminal_alert import alert_sequence


def ev(type_: EventType, at: float, **data) -> Event:
    return Event(type_, "c1", data, timestamp=at)


def test_call_states_and_hold_timer() -> None:
    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 100, target="demo:acme_bank", company="Acme Bank"))
    assert book.apply(ev(EventType.CALL_RINGING, 101)).state == RINGING
    assert book.apply(ev(EventType.CALL_ANSWERED, 102)).state == MENU
    call = book.apply(ev(EventType.HOLD_DETECTED, 110))
    assert call.state == ON_HOLD and call.hold_seconds(now=170) == 60
    call = book.apply(ev(EventType.HUMAN_DETECTED, 200))
    assert call.state == PERSON and call.hold_seconds(now=999) == 90  # stops at the person
    call = book.apply(ev(EventType.CALL_ENDED, 230, reason="hung up by user"))
    assert call.state == ENDED and not call.live and call.elapsed(now=999) == 130


def test_the_live_screen_says_why_it_is_a_person() -> None:
    from holdslayer_tui.screens.live_call import status_line

    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 100, target="demo:acme_bank", company="Acme Bank"))
    book.apply(ev(EventType.HOLD_DETECTED, 110))
    call = book.apply(ev(EventType.HUMAN_DETECTED, 200, confidence=0.9, evidence={
        "rule": "a voice the line never played speaks to us", "text": "Hi, this is Dana.",
        "voice_sim": 0.41}))  # fmt: skip
    assert "heard: a voice the line never played speaks to us: “Hi, this is Dana.”" in status_line(
        call, now=201)
    on_hold = CallBook()
    on_hold.apply(ev(EventType.CALL_STARTED, 100, target="demo:telco"))
    call = on_hold.apply(ev(EventType.HOLD_DETECTED, 110))
    assert "heard:" not in status_line(call, now=120)


def test_the_live_screen_says_when_the_line_is_bad() -> None:
    from holdslayer_tui.screens.live_call import status_line

    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 100, target="demo:telco"))
    call = book.apply(ev(EventType.CALL_ANSWERED, 101))
    assert "line" not in status_line(call, now=102)  # nothing measured yet
    good = dict(codec="PCMU/8000", loss_pct=0.2, jitter_ms=4.0, grade="good", window_s=5.0)
    call = book.apply(ev(EventType.LINE_QUALITY, 106, **good))
    assert "line good" in status_line(call, now=106) and "poor line" not in status_line(call, 106)
    call = book.apply(ev(EventType.LINE_QUALITY, 111, **{**good, "loss_pct": 11.4,
                                                           "jitter_ms": 72.0, "grade": "poor"}))
    text = status_line(call, now=111)
    assert "line poor" in text
    assert "poor line (11.4% lost, 72 ms jitter): words may be misheard" in text
    call = book.apply(ev(EventType.LINE_QUALITY, 116, **{**good, "loss_pct": 1.5, "grade": "fair"}))
    text = status_line(call, now=116)  # a line that recovers says so
    assert "line fair" in text and "poor line" not in text
    call = book.apply(ev(EventType.CALL_ENDED, 120, reason="hung up by user"))
    assert "line" not in status_line(call, now=121).split("\n")[0]


def test_history_detail_shows_the_line_a_call_had() -> None:
    from holdslayer_tui.screens.history import call_detail_text

    call = {"company": "Telco", "outcome": "success", "codec": "GSM/8000", "rx_loss_pct": 10.6}
    assert "line: GSM/8000, 10.6% of the audio lost" in call_detail_text(call)
    assert "line: PCMU/8000\n" in call_detail_text({**call, "codec": "PCMU/8000",
                                                    "rx_loss_pct": 0.0})  # fmt: skip
    assert "line:" not in call_detail_text({**call, "codec": ""})  # an older call


def test_failed_call_keeps_its_reason() -> None:
    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 1))
    book.apply(ev(EventType.CALL_FAILED, 2, reason="486 Busy Here"))
    call = book.apply(ev(EventType.CALL_ENDED, 2, reason="486 Busy Here"))
    assert call.state == FAILED and call.end_reason == "486 Busy Here"


def test_ivr_steps_and_digits_build_the_tree() -> None:
    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 1))
    book.apply(ev(EventType.IVR_DTMF_SENT, 2, digits="9"))  # before any menu: by hand
    book.apply(ev(EventType.IVR_STEP, 3, node_id="main", options=["1", "2"]))
    call = book.apply(ev(EventType.IVR_DTMF_SENT, 4, digits="2"))
    assert call.loose_digits == "9" and call.ivr[0].chosen == "2" and call.digits == "92"
    # the navigator's key goes out before its step is published: it is no key "by hand"
    book.apply(ev(EventType.IVR_DTMF_SENT, 5, digits="3", source="navigator"))
    call = book.apply(ev(EventType.IVR_STEP, 6, node_id="billing", options=["3"], chosen="3"))
    assert call.loose_digits == "9" and call.ivr[1].chosen == "3" and call.digits == "923"
    # a key the user presses once the navigator has chosen is theirs, and shown
    call = book.apply(ev(EventType.IVR_DTMF_SENT, 7, digits="0"))
    assert call.loose_digits == "90" and call.ivr[1].chosen == "3"


def test_the_navigator_reaching_the_queue_leaves_the_call_on_hold() -> None:
    """Its leaf step comes with (or just after) HOLD_DETECTED: the call showed "Menu" for the
    whole hold, and "hold 0:00" once the person came."""
    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 100, target="demo:telco", company="Nimbus Mobile"))
    book.apply(ev(EventType.CALL_ANSWERED, 101))
    book.apply(ev(EventType.IVR_STEP, 110, node_id="main", chosen="1"))
    book.apply(ev(EventType.HOLD_DETECTED, 111))
    call = book.apply(ev(EventType.IVR_STEP, 111.2, node_id="hold", kind="hold",
                         reason="on hold: the queue was reached"))
    assert call.state == ON_HOLD and call.hold_seconds(now=141) == 30
    call = book.apply(ev(EventType.HUMAN_DETECTED, 137))
    book.apply(ev(EventType.IVR_STEP, 137.1, node_id="human", kind="human"))
    assert call.state == PERSON and call.hold_seconds(now=999) == 26
    assert [n.node_id for n in call.ivr] == ["main", "hold", "human"]


def test_unknown_call_events_are_ignored() -> None:
    assert CallBook().apply(ev(EventType.HOLD_DETECTED, 1)) is None


def test_queue_order_pause_cancel() -> None:
    q = CallQueue()
    a, b, c = q.add("a"), q.add("b"), q.add("c")
    assert q.move(c.entry_id, -2) and [e.target for e in q.entries] == ["c", "a", "b"]
    q.toggle_pause(c.entry_id)
    assert q.pop_next() is a
    assert q.cancel(b.entry_id) and q.pop_next() is None  # only the paused one is left


def test_one_handover_at_a_time() -> None:
    desk = HandoverDesk()
    assert desk.request("a") == "active"
    assert desk.request("b") == "waiting" and desk.request("c") == "waiting"
    assert desk.release("c") is None  # a waiting call that ended just leaves the line
    assert desk.release("a") == "b" and desk.active == "b"
    assert desk.release("b") is None and desk.active is None


def test_alert_sequence_bell_osc9_osc777() -> None:
    seq = alert_sequence("Hold Slayer", "A person answered; pick up\x07", env={})
    assert seq.startswith("\x07")
    assert "\x1b]9;Hold Slayer: A person answered, pick up\x07" in seq
    assert "\x1b]777;notify;Hold Slayer;A person answered, pick up\x07" in seq


def test_alert_sequence_inside_tmux_is_passed_through() -> None:
    seq = alert_sequence("T", "B", env={"TMUX": "/tmp/tmux-1/default,1,0"})
    assert "\x1bPtmux;\x1b\x1b]9;T: B\x07\x1b\\" in seq


def test_settings_validation_names_the_field() -> None:
    ok, errors = validate(Settings(), {"sip.registrar": "pbx.example.com"})
    assert errors == {} and ok.sip.registrar == "sip:pbx.example.com"
    bad, errors = validate(Settings(), {"sip.transport": "carrier-pigeon"})
    assert bad is None and "sip.transport" in errors


def test_a_long_status_breaks_between_its_parts() -> None:
    from holdslayer_tui.screens.live_call import status_line

    book = CallBook()
    book.apply(ev(EventType.CALL_STARTED, 100, target="demo:airline"))
    book.apply(ev(EventType.HOLD_DETECTED, 110))
    book.apply(ev(EventType.QUEUE_POSITION, 300, position=12, wait_minutes=35))
    book.apply(ev(EventType.CALLBACK_OFFER, 310, key="1"))
    call = book.apply(ev(EventType.LINE_QUALITY, 320, codec="PCMU/8000", loss_pct=0.1,
                         jitter_ms=3.0, grade="good", window_s=5.0))
    parts = ["● On hold", "hold 10:50", "call 11:00", "position 12", "wait ~35 min",
             "callback offered: press 1", "line good"]
    assert status_line(call, now=760) == "   ".join(parts)  # no width known: one line
    for width in (40, 60, 80):
        lines = status_line(call, now=760, width=width).split("\n")
        assert all(len(line) <= width for line in lines), lines
        assert [p for line in lines for p in line.split("   ")] == parts  # no part cut
    assert len(status_line(call, now=760, width=200).split("\n")) == 1
