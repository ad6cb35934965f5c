"""Fixtures that run the company simulator as a real subprocess and drive it with SIPp."""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
    path: Path, digits: str, first_pause_ms: int = 1000, gap_ms: int = 300, wait_ms: int = 3000
) -> Path:
    """A SIPp caller that sends ``digits`` as SIP INFO, waits, then hangs up."""
    text = SCENARIO_TEMPLATE.read_text()
    block = re.search(r"<!--INFO-->(.*)<!--/INFO-->", text, re.S)
    assert block is not None
    infos = "".join(
        block.group(1).replace("@DIGIT@", d).replace("@CSEQ@", str(2 + i))
        .replace("@GAP_MS@", str(gap_ms))
        for i, d in enumerate(digits)
    )
    text = text[: block.start()] + infos + text[block.end():]
    text = (text.replace("@FIRST_PAUSE_MS@", str(first_pause_ms))
            .replace("@WAIT_MS@", str(wait_ms)).replace("@BYE_CSEQ@", str(2 + len(digits))))
    path.write_text(text)
    return path


def sipp_cmd(
    scenario: Path, port: int, user: str, calls: int = 1, timeout: float = 60.0
) -> list[str]:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.skip("sipp is not installed (apt-get install sip-tester)")
    return [
        sipp, f"127.0.0.1:{port}", "-sf", str(scenario), "-m", str(calls), "-l", str(calls),
        "-r", str(calls), "-s", user, "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mp", str(free_udp_port()), "-nostdin", "-timeout", f"{int(timeout)}s",
        "-timeout_error", "-trace_err", "-error_file", str(scenario.with_suffix(".err")),
    ]


def run_sipp(
    scenario: Path, port: int, user: str, calls: int = 1, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    cmd = sipp_cmd(scenario, port, user, calls, timeout)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 15,
                          cwd=scenario.parent)
