"""Digits that arrive in the media stream: RFC 2833 events (SIPp's bundled captures) and
in-band tones (a PCMU stream of generated DTMF), each logged once with its method."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.simulator.inband_dtmf import dtmf_tone

from .conftest import (
    build_scenario,
    pcap_action,
    rtp_stream_action,
    run_sipp,
    write_mulaw_wav,
)

pytestmark = pytest.mark.sip

SIPP_PCAPS = Path("/usr/share/sip-tester")


def digits_of(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["digit"], e["method"]) for e in events if e["event"] == "digit"]


@pytest.mark.skipif(not (SIPP_PCAPS / "dtmf_2833_1.pcap").exists(), reason="no SIPp pcaps")
def test_rfc2833_digit_from_sipp(start_simulator, tmp_path: Path) -> None:
    sim = start_simulator("acme_bank", "--max-calls", "1")
    media = pcap_action(SIPP_PCAPS / "dtmf_2833_1.pcap")
    scenario = build_scenario(tmp_path / "rfc.xml", "", first_pause_ms=500, wait_ms=2500,
                              media=media)
    done = run_sipp(scenario, sim.port, "18005550100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sim.proc.wait(15) == 0
    ev = sim.events()
    assert digits_of(ev) == [("1", "rfc2833")]
    assert [e["node"] for e in ev if e["event"] == "node"] == ["main", "accounts"]


def test_inband_tones_from_sipp(start_simulator, tmp_path: Path) -> None:
    sim = start_simulator("acme_bank", "--max-calls", "1")
    parts = [np.zeros(4000, np.int16)]
    for key in "23":
        parts += [dtmf_tone(key, 0.12, rate=8000, level_dbfs=-8), np.zeros(2400, np.int16)]
    wav = write_mulaw_wav(tmp_path / "tones.wav", np.concatenate(parts + [np.zeros(8000)]))
    scenario = build_scenario(tmp_path / "inband.xml", "", first_pause_ms=500, wait_ms=3000,
                              media=rtp_stream_action(wav))
    done = run_sipp(scenario, sim.port, "18005550100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sim.proc.wait(15) == 0
    ev = sim.events()
    assert digits_of(ev) == [("2", "inband"), ("3", "inband")]
    assert [e["node"] for e in ev if e["event"] == "node"] == ["main", "cards", "activate"]
