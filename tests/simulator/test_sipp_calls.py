"""The simulator as a subprocess answering real SIP calls placed by SIPp on loopback."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from .conftest import build_scenario, run_sipp, sipp_cmd

pytestmark = pytest.mark.sip


def of_call(events: list[dict], call: int, kind: str) -> list[dict]:
    return [e for e in events if e.get("call") == call and e["event"] == kind]


def test_sipp_call_reaches_agent_with_info_digits(start_simulator, tmp_path: Path) -> None:
    sim = start_simulator("acme_bank", "--hold-seconds", "1", "--max-calls", "1")
    assert sim.ready["event"] == "ready"
    assert sim.ready["uri"] == f"sip:18005550100@127.0.0.1:{sim.port}"
    assert sim.ready["company"] == "Acme Bank"

    scenario = build_scenario(tmp_path / "acme.xml", "01234567890#", gap_ms=200,
                              wait_ms=2000)
    done = run_sipp(scenario, sim.port, "18005550100")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sim.proc.wait(15) == 0  # --max-calls 1: exits cleanly after the call

    ev = sim.events()
    start = of_call(ev, 1, "call_start")
    assert len(start) == 1 and "sipp" in start[0]["from"]
    digits = of_call(ev, 1, "digit")
    assert "".join(d["digit"] for d in digits) == "01234567890#"  # each press logged once
    assert {d["method"] for d in digits} == {"info"}
    assert [n["node"] for n in of_call(ev, 1, "node")] == [
        "main", "account_number", "queue", "banker"
    ]
    assert of_call(ev, 1, "input")[0]["value"] == "1234567890"
    speaking = of_call(ev, 1, "agent_speaking")
    assert len(speaking) == 1 and "Dana" in speaking[0]["text"]
    hangup = of_call(ev, 1, "hangup")
    assert len(hangup) == 1 and hangup[0]["by"] == "caller"
    assert ev[-1]["event"] == "stopped"
    assert all("t" in e and "event" in e for e in ev)


def test_concurrent_calls_each_have_their_own_flow(start_simulator, tmp_path: Path) -> None:
    sim = start_simulator("acme_bank", "--hold-seconds", "1", "--max-calls", "2")
    scenario = build_scenario(tmp_path / "two.xml", "11", wait_ms=500)
    done = run_sipp(scenario, sim.port, "anyone", calls=2)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sim.proc.wait(15) == 0
    ev = sim.events()
    for call in (1, 2):
        assert [n["node"] for n in of_call(ev, call, "node")] == ["main", "accounts", "balance"]
        assert [d["digit"] for d in of_call(ev, call, "digit")] == ["1", "1"]


def test_sigterm_mid_call_hangs_up_and_exits_zero(start_simulator, tmp_path: Path) -> None:
    sim = start_simulator("acme_bank")
    scenario = build_scenario(tmp_path / "long.xml", "", wait_ms=20000)
    sipp = subprocess.Popen(
        sipp_cmd(scenario, sim.port, "x", timeout=30),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )
    try:
        sim.wait_for(lambda ev: any(e["event"] == "node" for e in ev))
        sim.proc.send_signal(signal.SIGTERM)
        assert sim.proc.wait(15) == 0
    finally:
        sipp.kill()
        sipp.wait()
    ev = sim.events()
    hangup = [e for e in ev if e["event"] == "hangup"]
    assert hangup and hangup[0]["by"] == "simulator" and hangup[0]["reason"] == "shutdown"
    assert ev[-1]["event"] == "stopped"


def _fds_and_threads(pid: int) -> tuple[int, int]:
    proc = Path(f"/proc/{pid}")
    threads = int(next(ln for ln in (proc / "status").read_text().splitlines()
                       if ln.startswith("Threads:")).split()[1])
    return len(list((proc / "fd").iterdir())), threads


@pytest.mark.slow
def test_twenty_calls_four_at_a_time_no_leaks(start_simulator, tmp_path: Path) -> None:
    sim = start_simulator("telco", "--hold-seconds", "30")
    warm = build_scenario(tmp_path / "warm.xml", "1", first_pause_ms=300, wait_ms=500)
    assert run_sipp(warm, sim.port, "x").returncode == 0
    sim.wait_for(lambda ev: any(e["event"] == "hangup" for e in ev))
    before = _fds_and_threads(sim.proc.pid)
    scenario = build_scenario(tmp_path / "many.xml", "1", first_pause_ms=300, wait_ms=1500)
    done = run_sipp(scenario, sim.port, "x", calls=20, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    ev = sim.wait_for(lambda ev: sum(e["event"] == "hangup" for e in ev) == 21)
    assert sim.proc.poll() is None
    assert {e["call"] for e in ev if e["event"] == "node" and e["node"] == "queue"} == set(
        range(1, 22)
    )
    after = _fds_and_threads(sim.proc.pid)
    # a leak would grow with the 20 calls; pjlib opens/closes one socket now and then, so
    # the count moves by one either way between two samples
    assert after[0] <= before[0] + 1 and after[1] <= before[1]
