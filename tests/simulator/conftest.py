"""Fixtures that run the company simulator as a real subprocess and drive it with SIPp."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCENARIO_TEMPLATE = HERE / "uac_info_dtmf.xml"


@dataclass
class RunningSimulator:
    proc: subprocess.Popen[str]
    ready: dict
    log_path: Path

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    def events(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def wait_for(self, pred: Callable[[list[dict]], bool], timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ev = self.events()
            if pred(ev):
                return ev
            time.sleep(0.05)
        raise AssertionError(f"log never matched; it holds:\n{self.log_path.read_text()}")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def simulator_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "engine.cli", "simulate", *args]


def read_ready_line(proc: subprocess.Popen[str], timeout: float) -> dict:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise AssertionError(f"simulator printed no ready line within {timeout}s")
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"simulator exited ({proc.wait()}) before ready:\n{err}")
    return json.loads(line)


@pytest.fixture
def start_simulator(tmp_path: Path) -> Iterator[Callable[..., RunningSimulator]]:
    procs: list[subprocess.Popen[str]] = []

    def start(company: str, *extra: str, timeout: float = 60.0) -> RunningSimulator:
        log_path = tmp_path / f"sim{len(procs)}.jsonl"
        proc = subprocess.Popen(
            simulator_cmd("--company", company, "--log", str(log_path), *extra),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        procs.append(proc)
        return RunningSimulator(proc, read_ready_line(proc, timeout), log_path)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def build_scenario(
    path: Path, digits: str, first_pause_ms: int = 1000, gap_ms: int = 300, wait_ms: int = 3000,
    media: str = "",
    sdp_port: int | None = None,
) -> Path:
    """A SIPp caller that plays ``media`` (an ``<nop>`` XML action, see :func:`pcap_action`),
    sends ``digits`` as SIP INFO, waits, then hangs up. ``sdp_port`` makes the callee send its
    RTP to a port the test listens on instead of SIPp's."""
    text = SCENARIO_TEMPLATE.read_text()
    block = re.search(r"<!--INFO-->(.*)<!--/INFO-->", text, re.S)
    assert block is not None
    infos = "".join(
        block.group(1).replace("@DIGIT@", d).replace("@CSEQ@", str(2 + i))
        .replace("@GAP_MS@", str(gap_ms))
        for i, d in enumerate(digits)
    )
    text = text[: block.start()] + infos + text[block.end():]
    for key, value in {
        "@FIRST_PAUSE_MS@": str(first_pause_ms), "@WAIT_MS@": str(wait_ms),
        "@MEDIA@": media, "@BYE_CSEQ@": str(2 + len(digits)),
    }.items():
        text = text.replace(key, value)
    if sdp_port is not None:
        text = text.replace("m=audio [media_port]", f"m=audio {sdp_port}")
    path.write_text(text)
    return path


def sipp_cmd(
    scenario: Path, port: int, user: str, calls: int = 1, timeout: float = 60.0
) -> list[str]:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.skip("sipp is not installed (apt-get install sip-tester)")
    return [
        sipp, f"127.0.0.1:{port}", "-sf", str(scenario), "-m", str(calls), "-r", str(calls),
        "-l", str(min(calls, 4)), "-s", user, "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mp", str(free_udp_port()), "-nostdin", "-timeout", f"{int(timeout)}s",
        "-timeout_error", "-trace_err", "-error_file", str(scenario.with_suffix(".err")),
    ]


def run_sipp(
    scenario: Path, port: int, user: str, calls: int = 1, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    cmd = sipp_cmd(scenario, port, user, calls, timeout)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 15,
                          cwd=scenario.parent)


def pcap_action(pcap: Path) -> str:
    """Play a pcap's RTP (e.g. SIPp's RFC 2833 digit captures) to the callee's media port."""
    return f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'


def rtp_stream_action(wav: Path) -> str:
    """Stream a mu-law WAV as PCMU RTP (SIPp's rtp_stream), once."""
    return f'<nop><action><exec rtp_stream="{wav},1,0"/></action></nop>'


def write_mulaw_wav(path: Path, pcm16: np.ndarray, rate: int = 8000) -> Path:
    """G.711 mu-law WAV (format tag 7), what SIPp's rtp_stream sends as PCMU."""
    x = np.clip(pcm16.astype(np.int32), -32635, 32635)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.abs(x) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    ulaw = (~(sign | (exponent << 4) | mantissa)) & 0xFF
    data = ulaw.astype(np.uint8).tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHHH4sI", b"RIFF", 38 + len(data), b"WAVE", b"fmt ", 18, 7, 1,
        rate, rate, 1, 8, 0, b"data", len(data),
    )
    path.write_bytes(header + data)
    return path


def ulaw_decode(data: bytes) -> np.ndarray:
    u = ~np.frombuffer(data, np.uint8).astype(np.int32) & 0xFF
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
    mag = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign, -mag, mag).astype(np.int16)
