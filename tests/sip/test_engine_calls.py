"""The SIP engine against independent PJSUA2 processes on loopback: audio both ways,
several calls at once, bridging, REFER, a far end that vanishes, and no leaks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from engine.config import SipSettings
from engine.events import EventBus, EventType
from engine.sip.engine import SipEngine

from .conftest import wait_event

pytestmark = pytest.mark.sip


def dominant_hz(frames: list[np.ndarray]) -> float:
    pcm = np.concatenate(frames).astype(np.float64)
    spec = np.abs(np.fft.rfft(pcm * np.hanning(pcm.size)))
    return float(np.argmax(spec[1:]) + 1) * 16000 / pcm.size


def collect(sub, seconds: float) -> list[np.ndarray]:
    frames, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        f = sub.get(timeout=0.1)
        if f is not None:
            frames.append(f.pcm)
    return frames


def test_audio_flows_both_ways(engine: SipEngine, bus: EventBus, answer_peer) -> None:
    peer = answer_peer(440)
    events = bus.subscribe_queue()
    call = engine.dial(f"sip:company@127.0.0.1:{peer.port}")
    sub = engine.tap(call, "remote").subscribe()
    wait_event(events, EventType.CALL_ANSWERED, call)
    frames = collect(sub, 1.5)
    assert len(frames) >= 50  # 20 ms frames at ~50 per second
    assert all(f.size == 320 for f in frames)
    assert abs(dominant_hz(frames[-25:]) - 440) < 15  # we hear the far end's tone

    t = np.arange(16000 * 2) / 16000
    played = engine.play_pcm(call, (6000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))
    assert peer.wait_for(lambda d: d.get("event") == "heard" and d["rms"] > 2000
                         and abs(d["peak_hz"] - 1000) < 30, timeout=5)
    assert played.result(timeout=5) is True  # completes once the clip has gone out
    engine.hangup(call).result(5)
    ended = wait_event(events, EventType.CALL_ENDED, call)
    assert ended.data["answered"] and ended.data["duration"] > 1.5


def test_several_calls_at_once_and_bridging(engine: SipEngine, bus: EventBus,
                                             answer_peer) -> None:
    a, b = answer_peer(440), answer_peer(1200)
    events = bus.subscribe_queue(types=[EventType.CALL_ANSWERED])
    ca = engine.dial(f"sip:a@127.0.0.1:{a.port}")
    cb = engine.dial(f"sip:b@127.0.0.1:{b.port}")
    answered = {wait_event(events, EventType.CALL_ANSWERED).call_id for _ in range(2)}
    assert answered == {ca, cb}
    assert {c.state for c in engine.calls()} == {"answered"}
    time.sleep(0.5)
    engine.bridge(ca, cb).result(5)
    # each far end now hears the other's tone
    assert a.wait_for(lambda d: d.get("event") == "heard" and abs(d["peak_hz"] - 1200) < 30
                      and d["rms"] > 1000, timeout=5)
    assert b.wait_for(lambda d: d.get("event") == "heard" and abs(d["peak_hz"] - 440) < 30
                      and d["rms"] > 1000, timeout=5)
    # and the local tap of call A carries what A is sent: B's tone
    local = engine.tap(ca, "local").subscribe()
    assert abs(dominant_hz(collect(local, 0.6)) - 1200) < 30


def test_blind_transfer_with_refer(engine: SipEngine, bus: EventBus, answer_peer) -> None:
    a, b = answer_peer(440), answer_peer(880)
    events = bus.subscribe_queue()
    call = engine.dial(f"sip:a@127.0.0.1:{a.port}")
    wait_event(events, EventType.CALL_ANSWERED, call)
    engine.transfer(call, f"sip:b@127.0.0.1:{b.port}").result(5)
    wait_event(events, EventType.TRANSFER_STARTED, call)
    ended = wait_event(events, EventType.CALL_ENDED, call, timeout=15)
    assert "transferred" in ended.data["reason"]
    assert b.wait_for(lambda d: d.get("event") == "answered", timeout=10)  # A called B


def test_far_end_vanishing_without_bye_ends_the_call(engine: SipEngine, bus: EventBus,
                                                     simulator) -> None:
    sim = simulator("telco")
    events = bus.subscribe_queue()
    call = engine.dial(sim.uri)
    wait_event(events, EventType.CALL_ANSWERED, call)
    time.sleep(1)
    killed_at = time.monotonic()
    os.killpg(sim.proc.pid, signal.SIGKILL)  # no BYE, no more RTP
    ended = wait_event(events, EventType.CALL_ENDED, call, timeout=15)
    took = time.monotonic() - killed_at
    assert took <= 10.0  # rtp_timeout is 5 s in this fixture
    assert "no audio (RTP)" in ended.data["reason"]


def test_unreachable_host_fails_with_a_clear_reason(engine: SipEngine, bus: EventBus) -> None:
    import socket

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    events = bus.subscribe_queue()
    call = engine.dial(f"sip:nobody@127.0.0.1:{port}")
    failed = wait_event(events, EventType.CALL_FAILED, call, timeout=40)
    assert failed.data["sip_code"] in (408, 503)
    assert "unreachable" in failed.data["reason"] or "nobody answered" in failed.data["reason"]


def test_twenty_calls_in_a_row_leak_nothing(engine: SipEngine, bus: EventBus,
                                            answer_peer) -> None:
    peer = answer_peer(440)
    events = bus.subscribe_queue(types=[EventType.CALL_ANSWERED, EventType.CALL_ENDED])

    def one_call() -> None:
        call = engine.dial(f"sip:x@127.0.0.1:{peer.port}")
        sub = engine.tap(call, "remote").subscribe()
        wait_event(events, EventType.CALL_ANSWERED, call)
        assert sub.get(timeout=2) is not None
        engine.hangup(call).result(5)
        wait_event(events, EventType.CALL_ENDED, call)

    one_call()
    time.sleep(0.3)
    threads_before = threading.active_count()
    fds_before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        one_call()
    time.sleep(0.5)
    assert threading.active_count() <= threads_before
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2
    assert engine.calls() == []
    assert engine.running


def test_a_fifth_simultaneous_call_is_refused_clearly(engine: SipEngine, bus: EventBus,
                                                      answer_peer) -> None:
    from engine.sip.engine import SipError

    peers = [answer_peer(440), answer_peer(660)]
    events = bus.subscribe_queue(types=[EventType.CALL_ANSWERED])
    calls = [engine.dial(f"sip:x@127.0.0.1:{peers[i % 2].port}") for i in range(4)]
    for _ in calls:
        wait_event(events, EventType.CALL_ANSWERED)
    with pytest.raises(SipError, match="4 calls in progress"):
        engine.dial(f"sip:x@127.0.0.1:{peers[0].port}")
    engine.hangup(calls[0]).result(5)
    time.sleep(0.5)
    fifth = engine.dial(f"sip:x@127.0.0.1:{peers[0].port}")  # room again
    wait_event(events, EventType.CALL_ANSWERED, fifth)


def test_the_codecs_configured_are_the_only_ones_offered(bus: EventBus, answer_peer) -> None:
    """A trunk that wants A-law gets A-law (the far end would take wideband speex first),
    and the call's end says so."""
    peer = answer_peer(440)
    events = bus.subscribe_queue()
    engine = SipEngine(bus, SipSettings(codecs=["pcma"])).start()
    try:
        call = engine.dial(f"sip:company@127.0.0.1:{peer.port}")
        sub = engine.tap(call, "remote").subscribe()
        wait_event(events, EventType.CALL_ANSWERED, call)
        frames = collect(sub, 1.5)
        assert abs(dominant_hz(frames[-25:]) - 440) < 15
        engine.hangup(call).result(5)
        assert wait_event(events, EventType.CALL_ENDED, call).data["codec"] == "PCMA/8000"
    finally:
        engine.stop()


def test_with_no_codecs_configured_a_call_gets_g722_not_a_low_bit_rate_codec(
    bus: EventBus, answer_peer
) -> None:
    """A far end that takes the caller's order (as PJSIP does) gets wideband G.722, then
    G.711: pjsua2's own order offers speex, iLBC and GSM first, which a PBX would pick."""
    peer = answer_peer(440)
    events = bus.subscribe_queue()
    engine = SipEngine(bus, SipSettings()).start()
    try:
        call = engine.dial(f"sip:company@127.0.0.1:{peer.port}")
        wait_event(events, EventType.CALL_ANSWERED, call)
        time.sleep(0.5)
        engine.hangup(call).result(5)
        assert wait_event(events, EventType.CALL_ENDED, call).data["codec"] == "G722/16000"
    finally:
        engine.stop()


def test_a_codec_the_build_lacks_stops_the_engine_with_those_it_has() -> None:
    # in a process of its own: a failed start leaves pjsua2's one Endpoint per process
    # behind, so no other engine could start in this one
    code = ("from engine.config import SipSettings; from engine.events import EventBus; "
            "from engine.sip.engine import SipEngine, SipError\n"
            "try:\n    SipEngine(EventBus(), SipSettings(codecs=['PCMU', 'G729'])).start()\n"
            "except SipError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert re.search(r"\[sip\] codecs: no audio codec 'G729'.*PCMU/8000", done.stdout), done
