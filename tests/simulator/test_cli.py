"""The ``simulate`` command's process contract: one ready line, clean errors, exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, simulator_cmd

pytestmark = pytest.mark.sip


def test_port_in_use_is_a_clear_error_exit_1() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = subprocess.run(simulator_cmd("--company", "telco", "--port", str(port)),
                              capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_ready_line_is_the_only_stdout_and_sigterm_exits_0(start_simulator) -> None:
    sim = start_simulator("airline", "--seed", "3")
    assert set(sim.ready) >= {"event", "port", "uri", "company"}
    assert sim.ready["uri"] == f"sip:18775550199@127.0.0.1:{sim.port}"
    sim.proc.terminate()
    assert sim.proc.wait(15) == 0
    assert sim.proc.stdout is not None and sim.proc.stdout.read() == ""
    ev = sim.events()
    assert [e["event"] for e in ev] == ["listening", "stopped"]
    assert ev[0]["seed"] == 3


def test_hold_seconds_from_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOLDSLAYER_SIM_HOLD_SECONDS", "nonsense")
    done = subprocess.run(simulator_cmd("--company", "telco"), capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 2 and "HOLDSLAYER_SIM_HOLD_SECONDS" in done.stderr
    log = tmp_path / "l.jsonl"
    monkeypatch.setenv("HOLDSLAYER_SIM_HOLD_SECONDS", "2.5")
    proc = subprocess.Popen(simulator_cmd("--company", "telco", "--log", str(log)),
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert json.loads(proc.stdout.readline())["event"] == "ready"
    finally:
        proc.terminate()
        proc.wait(15)
    assert json.loads(log.read_text().splitlines()[0])["hold_seconds"] == 2.5


@pytest.mark.parametrize("flag, env", [(("--packet-loss", "60"), None), ((), "lots")])
def test_a_packet_loss_outside_0_to_50_is_refused_before_listening(
    monkeypatch, flag: tuple[str, ...], env: str | None
) -> None:
    if env is not None:
        monkeypatch.setenv("HOLDSLAYER_SIM_PACKET_LOSS", env)
    done = subprocess.run(simulator_cmd("--company", "telco", *flag), capture_output=True,
                          text=True, timeout=60, cwd=REPO)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert ("from 0 to 50" if flag else "HOLDSLAYER_SIM_PACKET_LOSS") in done.stderr


def test_a_codec_the_build_lacks_is_refused_with_those_it_has() -> None:
    done = subprocess.run(simulator_cmd("--company", "telco", "--codec", "G729"),
                          capture_output=True, text=True, timeout=60, cwd=REPO)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert "no audio codec 'G729'" in done.stderr and "PCMU/8000" in done.stderr
    assert "Traceback" not in done.stderr
