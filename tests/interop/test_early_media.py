"""Early media: SIPp answers 183 Session Progress with SDP, pauses, then 200 OK.

The engine must report the early media (CALL_EARLY_MEDIA, sip_code 183) before the answer,
then answer the call normally and hang up cleanly. A 183 without SDP carries no audio: it is
progress (CALL_RINGING), never early media.
"""

from __future__ import annotations

import time

import pytest

from engine.events import EventType

pytestmark = pytest.mark.sip

PAUSE_MS = 1500  # between the 183 and the 200 OK

SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
"""

UAS_EARLY_MEDIA = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="UAS: 100, 183 with SDP, pause, 200 OK, then our BYE">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 100 Trying
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 183 Session Progress
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{PROGRESS_BODY}
]]></send>
  <pause milliseconds="{PAUSE_MS}"/>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

{SDP}
]]></send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0

]]></send>
</scenario>
"""


def early_media_scenario(sdp_in_183: bool = True) -> str:
    body = (f"Content-Type: application/sdp\nContent-Length: [len]\n\n{SDP}" if sdp_in_183
            else "Content-Length: 0\n")
    return UAS_EARLY_MEDIA.format(PROGRESS_BODY=body, PAUSE_MS=PAUSE_MS, SDP=SDP)


def test_183_with_sdp_is_early_media_then_answered(make_engine, sipp_uas) -> None:
    peer = sipp_uas(scenario=early_media_scenario())
    eut = make_engine()
    call_id = eut.engine.dial(peer.uri)

    early = eut.wait_event(EventType.CALL_EARLY_MEDIA, call_id, timeout=10)
    assert early.data["sip_code"] == 183
    t_early = time.monotonic()
    # While the far end holds the call in early media, that is the call's state.
    deadline = time.monotonic() + 1.0
    while eut.engine.call_state(call_id) != "early_media" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert eut.engine.call_state(call_id) == "early_media"

    answered = eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=10)
    assert answered.data["sip_code"] == 200
    # The answer came only after SIPp's pause, not together with the 183.
    assert time.monotonic() - t_early > PAUSE_MS / 1000 * 0.5

    types = eut.types(call_id)
    assert types.index("CALL_EARLY_MEDIA") < types.index("CALL_ANSWERED")
    assert "CALL_FAILED" not in types
    assert "CALL_RINGING" not in types  # a 183 with SDP is early media, not mere progress

    assert eut.engine.hangup(call_id).result(timeout=5) is True
    ended = eut.wait_event(EventType.CALL_ENDED, call_id, timeout=10)
    assert ended.data["answered"] is True
    assert ended.data["reason"] == "hung up by user"
    assert types.count("CALL_EARLY_MEDIA") == 1
    # SIPp exits 0 only if its scenario ran to the end: 183, 200, ACK, our BYE, its 200.
    assert peer.proc.wait(15) == 0


def test_183_without_sdp_is_progress_not_early_media(make_engine, sipp_uas) -> None:
    peer = sipp_uas(scenario=early_media_scenario(sdp_in_183=False))
    eut = make_engine()
    call_id = eut.engine.dial(peer.uri)
    ringing = eut.wait_event(EventType.CALL_RINGING, call_id, timeout=10)
    assert ringing.data["sip_code"] == 183
    eut.wait_event(EventType.CALL_ANSWERED, call_id, timeout=10)
    assert "CALL_EARLY_MEDIA" not in eut.types(call_id)
    assert eut.engine.hangup(call_id).result(timeout=5) is True
    eut.wait_event(EventType.CALL_ENDED, call_id, timeout=10)
    assert peer.proc.wait(15) == 0
