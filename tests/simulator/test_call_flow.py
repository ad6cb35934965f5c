"""The per-call state machine with a fake clock and fake media: menus, retries, input,
hold announcements, the callback offer, the agent, and digit de-duplication."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from engine.simulator.call_flow import CallFlow
from engine.simulator.company import load_company, parse_company
from engine.simulator.ground_truth import GroundTruthLog
from engine.simulator.prompts import Prompt, RenderedPrompt

PROMPT_S = 2.0  # every fake prompt lasts this long


class FakeMedia:
    def __init__(self) -> None:
        self.actions: list[tuple[str, str]] = []
        self.hung_up: str | None = None

    def play(self, prompt: RenderedPrompt) -> None:
        self.actions.append(("play", prompt.prompt.label))

    def play_music(self, path: Path) -> None:
        self.actions.append(("music", path.stem))

    def stop(self) -> None:
        self.actions.append(("stop", ""))

    def start_recording(self) -> None:
        self.actions.append(("record", ""))

    def hangup(self, reason: str) -> None:
        self.hung_up = reason


class Harness:
    def __init__(self, company_yaml: str | None, tmp_path: Path, name: str = "acme_bank",
                 hold: float | None = None) -> None:
        self.now = 1000.0
        self.company = (
            parse_company(company_yaml, tmp_path / "co.yaml") if company_yaml
            else load_company(name)
        )
        self.log_path = tmp_path / "log.jsonl"
        self.media = FakeMedia()
        self.flow = CallFlow(
            self.company, 1, self.media, GroundTruthLog(self.log_path),
            lambda p: RenderedPrompt(p, Path("/dev/null"), PROMPT_S), lambda: self.now,
            random.Random(7), hold_seconds=hold,
        )

    def advance(self, seconds: float, step: float = 0.1) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now = round(self.now + step, 6)
            self.flow.tick()

    def press(self, keys: str, method: str = "info", gap: float = 0.3) -> None:
        for k in keys:
            self.flow.digit(k, method)
            self.advance(gap)

    def events(self, kind: str | None = None) -> list[dict]:
        ev = [json.loads(x) for x in self.log_path.read_text().splitlines()]
        return [e for e in ev if kind is None or e["event"] == kind]

    def nodes(self) -> list[str]:
        return [e["node"] for e in self.events("node")]


def test_deep_menu_then_account_number_then_hold_then_agent(tmp_path: Path) -> None:
    h = Harness(None, tmp_path, hold=5)
    h.flow.start()
    h.advance(1)
    h.press("1")  # barge in during the main menu prompt
    h.press("2")
    h.press("3")
    h.press("1234567890#")
    assert h.events("input")[0]["value"] == "1234567890"
    h.advance(6)
    assert h.nodes() == ["main", "accounts", "transactions", "account_number", "queue", "banker"]
    speaking = h.events("agent_speaking")
    assert len(speaking) == 1 and speaking[0]["agent"] == "Dana"
    assert ("music", "macroform-the_simplicity") in h.media.actions
    h.advance(PROMPT_S + 0.2)
    assert h.media.actions[-1] == ("record", "")  # listening after the greeting
    h.flow.caller_hung_up("200 Normal call clearing")
    assert h.events("hangup")[-1]["by"] == "caller"


def test_invalid_keys_repeat_the_menu_then_goodbye(tmp_path: Path) -> None:
    h = Harness(None, tmp_path)
    h.flow.start()
    for _ in range(3):
        h.press("7")
        h.advance(PROMPT_S + 0.5)
    assert [e["digit"] for e in h.events("invalid")] == ["7", "7", "7"]
    h.advance(PROMPT_S + 0.5)
    assert h.media.hung_up == "max_retries"
    hangup = h.events("hangup")
    assert hangup == [hangup[0]] and hangup[0]["by"] == "simulator"
    assert h.events("node") == [h.events("node")[0]]  # never left the main menu


def test_silence_times_out_and_replays(tmp_path: Path) -> None:
    h = Harness(None, tmp_path)
    h.flow.start()
    h.advance(PROMPT_S + 6 + 0.2)  # prompt, then the 6 s timeout
    assert len(h.events("timeout")) == 1
    assert [a for a in h.media.actions if a[0] == "play"][-1][1].startswith('"Thank you')


def test_input_with_wrong_length_is_invalid_and_asked_again(tmp_path: Path) -> None:
    h = Harness(None, tmp_path)
    h.flow.start()
    h.press("0")
    h.press("123#")
    assert h.events("invalid")[-1] == {**h.events("invalid")[-1], "value": "123", "digit": "#"}
    h.advance(5)
    h.press("0000000000#")
    assert h.events("input")[0]["value"] == "0000000000"


def test_same_press_by_two_methods_is_logged_once(tmp_path: Path) -> None:
    h = Harness(None, tmp_path)
    h.flow.start()
    assert h.flow.digit("1", "rfc2833") is True
    assert h.flow.digit("1", "inband", h.now + 0.05) is False
    h.advance(1)
    assert h.flow.digit("1", "inband") is True  # a second press of the same key
    assert [(e["digit"], e["method"]) for e in h.events("digit")] == [
        ("1", "rfc2833"), ("1", "inband")
    ]


def test_telco_hold_plays_periodic_announcements(tmp_path: Path) -> None:
    h = Harness(None, tmp_path, name="telco")
    h.flow.start()
    h.press("2")
    h.advance(45)
    anns = h.events("announcement")
    assert len(anns) >= 3
    assert [a["index"] for a in anns] == list(range(len(anns)))
    gaps = [b["t"] - a["t"] for a, b in zip(anns, anns[1:], strict=False)]
    assert all(abs(g - 12) < 0.5 for g in gaps)
    # after each announcement the music resumes
    assert h.media.actions.count(("music", "reno_project-system")) >= len(anns)


def test_airline_callback_offer_accepted(tmp_path: Path) -> None:
    h = Harness(None, tmp_path, name="airline")
    h.flow.start()
    h.advance(1)
    h.press("3")  # greeting is skipped by the key, which then chooses baggage
    assert h.nodes()[:2] == ["main", "queue"]
    h.advance(9)
    assert len(h.events("callback_offer")) == 1
    h.press("1")
    assert h.nodes()[-1] == "callback_booked"
    h.advance(PROMPT_S + 0.2)
    assert h.media.hung_up == "node:callback_booked"


def test_hold_duration_is_random_in_range_and_reproducible(tmp_path: Path) -> None:
    seen = []
    for i in range(2):
        h = Harness(None, tmp_path / str(i), name="telco")
        h.flow.start()
        h.press("1")
        seen.append(h.events("hold_duration")[0]["seconds"])
    assert seen[0] == seen[1] and 40 <= seen[0] <= 60


@pytest.mark.parametrize("company", ["acme_bank", "telco", "airline", "super_awesome"])
def test_every_company_reaches_its_agent_with_hold_override(
    tmp_path: Path, company: str
) -> None:
    h = Harness(None, tmp_path, name=company, hold=3)
    route = {"acme_bank": "0", "telco": "1", "airline": "3", "super_awesome": "1"}[company]
    h.flow.start()
    h.advance(0.5)
    h.press(route)
    if company == "acme_bank":
        h.press("5550001111#")
    h.advance(4)
    assert h.events("agent_speaking"), h.nodes()


def test_hangup_node_without_prompt_hangs_up_at_once(tmp_path: Path) -> None:
    yaml_text = """
name: Tiny
number: "1"
nodes:
  main: {type: menu, prompt: "say:Press 9 to leave.", options: {9: bye}}
  bye: {type: hangup}
"""
    h = Harness(yaml_text, tmp_path)
    h.flow.start()
    h.press("9")
    assert h.media.hung_up == "node:bye"
    assert h.events("hangup")[0]["reason"] == "node:bye"
    assert isinstance(h.company.nodes["main"].prompt, Prompt)
