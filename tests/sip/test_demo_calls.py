"""End to end, as a user scripts it: ``holdslayer call demo:<company> --digits ... --json``
against the bundled simulator, checked against the simulator's ground-truth log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.wavio import read_wav

pytestmark = pytest.mark.sip


def run_call(tmp_path: Path, *args: str, timeout: float = 180) -> tuple[int, list[dict], str]:
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "call", *args, "--json",
         "--demo-log", str(tmp_path / "simlog")],
        capture_output=True, text=True, timeout=timeout,
    )
    events = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r.returncode, events, r.stderr


def sim_log(tmp_path: Path, company: str) -> list[dict]:
    path = tmp_path / "simlog" / f"simulator_{company}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "company, digits, method, nodes, expect_input",
    [
        ("acme_bank", "3,1,,1234567890#", "rfc2833", ["main", "loans", "account_number", "queue"],
         "1234567890"),
        ("telco", "2", "info", ["main", "queue"], None),
        ("airline", "1,,1", "inband", ["main", "reservations", "queue"], None),
    ],
)
def test_digits_reach_the_intended_node(tmp_path: Path, company: str, digits: str, method: str,
                                        nodes: list[str], expect_input: str | None) -> None:
    rc, events, err = run_call(tmp_path, f"demo:{company}", "--digits", digits,
                               "--dtmf-method", method, "--hangup-after-digits", "2.5",
                               "--record")
    assert rc == 0, err
    names = [e["event"] for e in events if e["call_id"]]
    assert names[0] == "CALL_STARTED" and "CALL_ANSWERED" in names
    assert names.count("CALL_ENDED") == 1

    log = sim_log(tmp_path, company)
    entered = [e["node"] for e in log if e["event"] == "node"]
    assert entered[: len(nodes)] == nodes
    received = [(e["digit"], e["method"]) for e in log if e["event"] == "digit"]
    pressed = [c for c in digits if c != ","]
    assert received == [(d, method) for d in pressed]  # each digit once, by the asked method
    sent = [(e["data"]["digits"], e["data"]["method"]) for e in events
            if e["event"] == "IVR_DTMF_SENT"]
    assert sent == received
    if expect_input:
        assert [e["value"] for e in log if e["event"] == "input"] == [expect_input]
    assert any(e["event"] == "hangup" and e["by"] == "caller" for e in log)

    ended = next(e for e in events if e["event"] == "CALL_ENDED")["data"]
    recs = {e["data"]["kind"]: e["data"] for e in events if e["event"] == "RECORDING_STOPPED"}
    assert set(recs) == {"outbound", "inbound", "mixed"}
    outbound = read_wav(recs["outbound"]["path"])
    assert abs(len(outbound) / 16000 - ended["duration"]) < 1.0
    rms = np.sqrt(np.mean(outbound.astype(np.float64) ** 2))
    assert rms > 200, "the company's prompts should be audible in the recording"
    if method == "inband":  # our tones went into the call, so they are on our side's track
        inbound = read_wav(recs["inbound"]["path"]).astype(np.float64)
        assert np.abs(inbound).max() > 3000


def test_bad_number_is_a_clear_error(tmp_path: Path) -> None:
    rc, events, err = run_call(tmp_path, "555-12")
    assert rc == 2 and events == []
    assert "North American numbers have 10" in err


def test_number_without_trunk_says_how_to_configure(tmp_path: Path) -> None:
    rc, events, err = run_call(tmp_path, "(800) 555-1234")
    assert rc == 1
    assert "no SIP trunk is configured" in err and "demo:" in err


def test_unknown_demo_company_lists_the_bundled_ones(tmp_path: Path) -> None:
    rc, _, err = run_call(tmp_path, "demo:nosuchco")
    assert rc == 1 and "acme_bank" in err


def test_malformed_config_names_file_and_key(tmp_path: Path, monkeypatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[sip]\nrtp_timeout = "soon"\n')
    monkeypatch.setenv("HOLDSLAYER_CONFIG", str(cfg))
    rc, _, err = run_call(tmp_path, "demo:telco")
    assert rc == 2 and f"{cfg}, line 2: sip.rtp_timeout" in err


def test_a_closed_terminal_hangs_the_call_up_with_a_bye(tmp_path: Path) -> None:
    """``holdslayer call`` in a terminal that closes (SIGHUP): it died without a BYE, the
    company kept the call up and its simulator ran on."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "call", "demo:telco", "--json",
         "--demo-log", str(tmp_path / "simlog")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(json.loads(line))
            if lines[-1]["event"] == "CALL_ANSWERED":
                break
        time.sleep(1.0)
        proc.send_signal(signal.SIGHUP)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    lines += [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    ended = next(e for e in lines if e["event"] == "CALL_ENDED")["data"]
    assert ended["reason"] == "hung up by user (terminal closed)", ended
    assert any(e["event"] == "hangup" and e["by"] == "caller" for e in sim_log(tmp_path, "telco"))
    assert proc.returncode == 0


def test_keys_typed_on_the_terminal_answer_what_the_menu_asks(tmp_path: Path) -> None:
    """The headless call, run by hand: the airline wants a flight number the profile lacks,
    and the user types it (then Enter) where the call is running."""
    import os
    import pty
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "call", "demo:airline", "--json",
         "--intent", "the status of my flight", "--demo-log", str(tmp_path / "simlog")],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    os.close(slave)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            if event["event"] == "IVR_STEP" and event["data"].get("needs_input"):
                break
        time.sleep(0.5)
        os.write(master, b"123#\n")
        out, _ = proc.communicate(timeout=90)
    finally:
        proc.kill()
        os.close(master)
    inputs = [e["value"] for e in sim_log(tmp_path, "airline") if e["event"] == "input"]
    assert inputs == ["123"], out[-2000:]
    assert proc.returncode == 0
