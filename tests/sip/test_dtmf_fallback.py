"""A far end that never negotiated telephone-event (SIPp's built-in UAS answers with PCMU
only): RFC 2833 digits cannot be sent, so the engine falls back to in-band tones."""

from __future__ import annotations

import shutil
import socket
import subprocess

import numpy as np
import pytest

from engine.events import EventBus, EventType
from engine.sip.engine import SipEngine

from .conftest import wait_event

pytestmark = [pytest.mark.sip,
              pytest.mark.skipif(not shutil.which("sipp"), reason="sipp (sip-tester) missing")]


def free_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_rfc2833_falls_back_to_inband_tones(engine: SipEngine, bus: EventBus, tmp_path) -> None:
    port = free_udp_port()
    sipp = subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-m", "1",
                             "-nostdin"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        events = bus.subscribe_queue()
        call = engine.dial(f"sip:service@127.0.0.1:{port}")
        local = engine.tap(call, "local").subscribe(maxframes=2000)
        wait_event(events, EventType.CALL_ANSWERED, call)
        sent = engine.send_dtmf(call, "5#").result(timeout=10)
        assert sent == [("5", "inband"), ("#", "inband")]
        dtmf = [e for e in events.drain() if e.type == EventType.IVR_DTMF_SENT]
        assert [e.data["method"] for e in dtmf] == ["inband", "inband"]
        assert next(c for c in engine.calls() if c.call_id == call).dtmf_method == "inband"
        # and the tones really went out on our side of the call
        frames = []
        for _ in range(60):  # the last 1.2 s of what we sent
            if (f := local.get(timeout=0.5)) is not None:
                frames.append(f.pcm)
        pcm = np.concatenate(frames).astype(np.float64)
        spec = np.abs(np.fft.rfft(pcm))
        hz = np.fft.rfftfreq(pcm.size, 1 / 16000)
        for f in (770, 1336, 941, 1477):  # the two tones of 5 and of #
            band = (hz > f - 15) & (hz < f + 15)
            assert spec[band].max() > 20 * np.median(spec), f
        engine.hangup(call).result(5)
    finally:
        sipp.kill()
        sipp.wait(5)
