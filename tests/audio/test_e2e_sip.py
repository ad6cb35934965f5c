"""End to end over real SIP on loopback, as a user runs it: ``holdslayer call demo:<company>``
hears hold while the simulator plays it, and hears the person only after the simulator's
agent starts talking, soon after their first word. And the other direction: Piper speech that
the engine plays into a call is what the far end hears, clearly enough for Whisper."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.config import SipSettings
from engine.events import EventBus, EventType
from engine.wavio import read_wav

from .conftest import wer

pytestmark = [pytest.mark.sip, pytest.mark.slow]

LATENCY_BOUND_S = 4.0  # generous for a shared CI machine; the target is 1.0 median, 2.0 p95
TUNED_PARTIAL_S = 0.12  # a partial's Whisper time on the machine the detector was tuned on


@pytest.fixture(scope="module")
def latency_bound(whisper, prompts) -> float:
    """The bound, plus what this machine's slower Whisper adds: the person's words come as
    late as a partial takes, and the decision waits for up to three of them (a 3x slower VM
    passed at 3.75 s alone and failed at 4.1 s under the suite's load; the benchmarks, not
    this test, hold the targets)."""
    audio = prompts("queue-periodic-announce")[: 3 * 16000]
    costs = []
    for _ in range(3):
        t0 = time.monotonic()
        whisper.transcribe_partial(audio)
        costs.append(time.monotonic() - t0)
    return LATENCY_BOUND_S + 3 * max(0.0, sorted(costs)[1] - TUNED_PARTIAL_S)


ANSWER_PEER = Path(__file__).resolve().parents[1] / "sip" / "answer_peer.py"


def _call(tmp_path: Path, company: str, digits: str, hold_s: float, max_s: float,
          how: tuple[str, ...] = (), loss_pct: int = 0, codec: str = ""):
    env = {**os.environ, "HOLDSLAYER_DATA_DIR": str(tmp_path / "data"),
           "HOLDSLAYER_SIM_PACKET_LOSS": str(loss_pct), "HOLDSLAYER_SIM_CODEC": codec}  # fmt: skip
    r = subprocess.run(
        [sys.executable, "-m", "engine.cli", "call", f"demo:{company}",
         *(how or ("--digits", digits)),
         "--json", "--demo-hold-seconds", str(hold_s), "--max-seconds", str(max_s),
         "--demo-log", str(tmp_path / "simlog")],
        capture_output=True, text=True, timeout=max_s + 120, env=env,
    )  # fmt: skip
    events = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    log_path = tmp_path / "simlog" / f"simulator_{company}.jsonl"
    log = [json.loads(x) for x in log_path.read_text().splitlines() if x.strip()]
    return r, events, log


@pytest.mark.parametrize(
    "company, digits, max_s, loss_pct, codec",
    [("telco", "1", 34.0, 0, ""), ("airline", "1,,1", 55.0, 0, ""),
     ("telco", "1", 34.0, 10, ""), ("telco", "1", 34.0, 0, "GSM")],
    ids=["telco", "airline", "telco-lossy-line", "telco-gsm"],
)  # fmt: skip
def test_hold_then_the_person_is_heard_after_they_start_talking(
    tmp_path: Path, company: str, digits: str, max_s: float, loss_pct: int, codec: str,
    latency_bound: float,
) -> None:
    """Also on a bad line: the simulator drops a tenth of its RTP packets and our jitter
    buffer conceals the holes, which blurs the repeats' fingerprints and Whisper's words; and
    behind a mobile leg's GSM codec (8 kHz, 13 kbit/s) instead of the wideband default."""
    r, events, log = _call(tmp_path, company, digits, hold_s=15, max_s=max_s, loss_pct=loss_pct,
                           codec=codec)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    (ended,) = [e["data"] for e in events if e["event"] == "CALL_ENDED"]
    assert ended["rx_packets"] > 1000
    assert loss_pct / 2 <= ended["rx_loss_pct"] <= loss_pct * 2 + 0.5, ended  # as RTCP counts
    assert ended["codec"].startswith(codec or "G722/16000"), ended
    lines = [e["data"] for e in events if e["event"] == "LINE_QUALITY"]
    assert len(lines) >= 3 and all(q["codec"] == ended["codec"] for q in lines), lines
    if loss_pct:  # the live call says the line is poor, and why
        assert sum(q["grade"] == "poor" and q["loss_pct"] >= 5 for q in lines) > len(lines) / 2
    else:
        assert all(q["loss_pct"] < 1.0 for q in lines) and "good" in {q["grade"] for q in lines}
    hold_node = next(e for e in log if e["event"] == "node" and e["kind"] == "hold")
    agent = next(e for e in log if e["event"] == "agent_speaking")
    first_word = agent["t"] + agent.get("voice_after", 0.0)

    holds = [e for e in events if e["event"] == "HOLD_DETECTED"]
    assert len(holds) == 1, [e["event"] for e in events]
    assert hold_node["t"] < holds[0]["timestamp"] < agent["t"], "hold is heard during hold"

    humans = [e for e in events if e["event"] == "HUMAN_DETECTED"]
    assert len(humans) == 1, "exactly one alarm, and none during hold or the menus"
    human = humans[0]
    latency = human["timestamp"] - first_word
    print(f"{company}: HUMAN_DETECTED {latency:.2f} s after the agent's first word "
          f"(rule: {human['data']['evidence'].get('rule')}, "
          f"text: {human['data']['evidence'].get('text')!r})")  # fmt: skip
    assert human["timestamp"] > agent["t"]
    assert latency <= latency_bound
    assert human["data"]["evidence"]["hold_since"] is not None


def test_a_company_called_again_is_still_navigated_from_its_remembered_menu(
    tmp_path: Path,
) -> None:
    """The second call to a company recognises its menu by the sound (the memory of the first
    call) and skips STT; the menu's words must still reach the navigator and the transcript,
    or every call after the first sits in the menu until the company hangs up.

    On the second call the learned key cuts the menu about two seconds in, as "billing" is
    being said: the transcript keeps the menu's head, as far as it was played, marked as a
    repeat (whether its last word came out whole is down to the key's timing; CI once
    heard "for Bill and")."""
    intent = ("--intent", "I have a question about my bill")
    for n in (1, 2):
        r, events, log = _call(tmp_path, "telco", "", hold_s=60, max_s=35.0, how=intent)
        assert r.returncode == 0, r.stderr[-2000:]
        word = "billing" if n == 1 else "welcome"
        menu = [e for e in events if e["event"] == "TRANSCRIPT_CHUNK"
                and word in e["data"]["text"].lower()]  # fmt: skip
        said = [(e["data"]["start"], e["data"]["text"]) for e in events
                if e["event"] == "TRANSCRIPT_CHUNK"]  # fmt: skip
        steps = [e["data"].get("reason") for e in events if e["event"] == "IVR_STEP"]
        assert menu, (n, said, steps)
        assert menu[0]["data"]["repeat"] is (n == 2), (n, said)  # heard again
        keys = [e["data"]["digits"] for e in events if e["event"] == "IVR_DTMF_SENT"]
        assert keys[:1] == ["1"], (n, keys)
        assert any(e["event"] == "node" and e["kind"] == "hold" for e in log), n
        (tmp_path / "simlog" / "simulator_telco.jsonl").unlink()


def test_a_newcomers_call_to_the_demo_bank_goes_through_its_account_number_prompt(
    tmp_path: Path,
) -> None:
    """Nothing configured: the demo bank asks for a ten-digit account number the profile does
    not have. The call sat in the prompt until the bank hung up; a demo company now gets a
    demo number, and the call reaches the queue and Dana."""
    r, events, log = _call(tmp_path, "acme_bank", "", hold_s=10, max_s=80.0,
                           how=("--intent", "dispute a charge"))
    assert r.returncode == 0, r.stderr[-2000:]
    keys = "".join(e["data"]["digits"] for e in events if e["event"] == "IVR_DTMF_SENT")
    assert keys.endswith("•" * 10), keys  # an account number is never published
    heard = "".join(e["digit"] for e in log if e["event"] == "digit")
    # what the bank took: with "#" after it when the words "followed by the pound key" were
    # heard, without it when they were not (ten digits end the prompt by themselves)
    taken = [e["value"] for e in log if e["event"] == "input"]
    assert taken == ["1234567890"], heard
    assert any(e["event"] == "node" and e["kind"] == "hold" for e in log)
    assert [e["event"] for e in events].count("HUMAN_DETECTED") == 1


def test_the_answer_a_company_reads_before_it_hangs_up_is_in_the_transcript(
    tmp_path: Path,
) -> None:
    """Self-service: the bank reads the balance asked for and hangs up. The words came in as
    the call ended, and were lost (only finished turns were transcribed)."""
    r, events, _ = _call(tmp_path, "acme_bank", "", hold_s=15, max_s=60.0,
                         how=("--intent", "check my balance"))
    assert r.returncode == 0, r.stderr[-2000:]
    names = [e["event"] for e in events]
    said = [e["data"]["text"] for e in events if e["event"] == "TRANSCRIPT_CHUNK"]
    (ended,) = [e["data"] for e in events if e["event"] == "CALL_ENDED"]
    assert ended["reason"] == "the far end hung up", ended
    assert names.index("CALL_ENDED") < len(names) - 1, "its last words come after the end"
    assert any("balance is" in t.lower() and ("1,204" in t or "two hundred" in t)
               for t in said), said
    def history(*args: str):
        return json.loads(subprocess.run(
            [sys.executable, "-m", "engine.cli", "history", "--json", *args],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "HOLDSLAYER_DATA_DIR": str(tmp_path / "data")}).stdout)  # fmt: skip

    (call,) = history("--search", "balance is")  # the history keeps the words too
    assert call["company"] == "Acme Bank"  # as the app files it, not the demo's slug


def test_piper_speech_played_into_a_call_is_heard_by_the_far_end(tmp_path: Path, whisper):
    from engine.sip.engine import SipEngine
    from engine.speech.tts import synthesize

    text = "Hi, I am calling about my bill. Could you tell me why it went up this month?"
    speech = synthesize(text)
    peer = subprocess.Popen([sys.executable, str(ANSWER_PEER), "440", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)  # fmt: skip
    bus = EventBus()
    engine = SipEngine(bus, SipSettings(rtp_timeout=5.0)).start()
    try:
        ready = json.loads(peer.stdout.readline())
        events = bus.subscribe_queue(types=[EventType.CALL_ANSWERED, EventType.CALL_ENDED])
        call = engine.dial(f"sip:company@127.0.0.1:{ready['port']}")
        answered = events.get(timeout=10)
        assert answered is not None and answered.type == EventType.CALL_ANSWERED
        assert engine.play_pcm(call, speech).result(timeout=30) is True
        time.sleep(0.5)  # the last frames on their way
        engine.hangup(call).result(5)
        assert events.get(timeout=10).type == EventType.CALL_ENDED
    finally:
        engine.stop()
        os.killpg(peer.pid, signal.SIGTERM)
        peer.wait(10)
        peer.stdout.close()
    (recording,) = tmp_path.glob("*.wav")
    heard = read_wav(recording)
    assert np.abs(heard).max() > 3000, "the far end heard our speech"
    transcript = whisper.transcribe(heard)
    assert wer(text, transcript) <= 0.2, transcript
