"""Our SipEngine calling SIPp, an independent SIP stack, on loopback."""

from __future__ import annotations

import time

import pytest

from engine.events import EventType

pytestmark = pytest.mark.sip


def test_sipp_answers_then_we_hang_up(make_engine, sipp_uas) -> None:
    peer = sipp_uas()
    eut = make_engine()
    call_id = eut.engine.dial(peer.uri)
    answered = eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=10)
    assert answered.data["sip_code"] == 200

    frames = eut.engine.tap(call_id, "remote").subscribe()
    first = frames.get(timeout=3)  # the tap runs even though SIPp sends no RTP (silence)
    assert first is not None and first.pcm.size == 320

    assert eut.engine.hangup(call_id).result(timeout=5) is True
    ended = eut.wait_event(EventType.CALL_ENDED, call_id, timeout=10)
    assert ended.data["answered"] is True
    assert ended.data["reason"] == "hung up by user"
    assert ended.data["duration"] > 0
    types = eut.types(call_id)
    assert types.index("CALL_ANSWERED") < types.index("CALL_ENDED")
    assert "CALL_FAILED" not in types
    # SIPp exits 0 only if its scenario ran to the end: INVITE, ACK, our BYE, its 200.
    assert peer.proc.wait(15) == 0


def test_sipp_busy_gives_call_failed(make_engine, sipp_uas) -> None:
    peer = sipp_uas(busy=True)
    eut = make_engine()
    call_id = eut.engine.dial(peer.uri)
    failed = eut.wait_event(EventType.CALL_FAILED, call_id, timeout=10)
    assert failed.data["sip_code"] == 486
    assert "busy" in failed.data["reason"].lower()
    ended = eut.wait_event(EventType.CALL_ENDED, call_id, timeout=5)
    assert ended.data["answered"] is False and ended.data["sip_code"] == 486
    assert "CALL_ANSWERED" not in eut.types(call_id)
    assert peer.proc.wait(15) == 0  # it got our ACK for the 486


def test_silent_far_end_is_hung_up_by_rtp_watchdog(make_engine, sipp_uas) -> None:
    """SIPp's uas sends no RTP at all: the watchdog must end the call with a clear reason."""
    peer = sipp_uas()
    eut = make_engine(rtp_timeout=2.0)
    call_id = eut.engine.dial(peer.uri)
    eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=10)
    t0 = time.monotonic()
    ended = eut.wait_event(EventType.CALL_ENDED, call_id, timeout=8)
    assert time.monotonic() - t0 < 6
    assert "no audio" in ended.data["reason"] and ended.data["answered"] is True
    assert peer.proc.wait(15) == 0
