"""Company YAML: every bundled company loads; a malformed one is a clear FILE:LINE error and
exit code 2 from the CLI, with no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.simulator.company import (
    AgentNode,
    CompanyError,
    HoldNode,
    InputNode,
    MenuNode,
    bundled_companies,
    load_company,
)

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
name: Test Co
number: "555 0100"
nodes:
  main:
    type: menu
    prompt: asterisk:pm-invalid-option
    options: {1: agent}
  agent:
    type: agent
    say: Hello, this is Pat.
"""


def test_the_three_demo_shapes_are_bundled() -> None:
    assert {"acme_bank", "telco", "airline"} <= set(bundled_companies())


@pytest.mark.parametrize("name", bundled_companies())
def test_bundled_company_loads_and_ends_at_a_named_agent(name: str) -> None:
    company = load_company(name)
    assert company.start in company.nodes
    agents = [n for n in company.nodes.values() if isinstance(n, AgentNode)]
    assert agents and all(a.agent_name and a.greeting.text for a in agents)
    assert company.user_part.isdigit()
    for node in company.nodes.values():
        targets = []
        if isinstance(node, MenuNode):
            targets = list(node.options.values())
        elif isinstance(node, InputNode | HoldNode):
            targets = [node.next]
        assert all(t in company.nodes for t in targets)


def test_demo_shapes_match_the_brief() -> None:
    bank = load_company("acme_bank")
    account = bank.nodes["account_number"]
    assert isinstance(account, InputNode) and account.digits == 10 and account.terminator == "#"
    # a menu three levels deep: main -> accounts -> transactions
    assert bank.nodes["main"].options["1"] == "accounts"
    assert bank.nodes["accounts"].options["2"] == "transactions"
    assert isinstance(bank.nodes["transactions"], MenuNode)
    telco = load_company("telco")
    hold = telco.nodes["queue"]
    assert isinstance(hold, HoldNode) and len(hold.announcements) >= 3
    assert any("important" in a.text for a in hold.announcements)
    air = load_company("airline")
    offer = air.nodes["queue"].callback_offer
    assert offer is not None and offer.digit == "1" and "press 1" in offer.prompt.text


def test_name_or_path(tmp_path: Path) -> None:
    f = tmp_path / "test_co.yaml"
    f.write_text(GOOD)
    company = load_company(str(f))
    assert company.name == "Test Co" and company.user_part == "5550100"
    assert company.slug == "test_co" and company.start == "main"


BAD = [
    ("name: x\nnumber: 1\n  indented: wrongly\n", r":3: invalid YAML: mapping values"),
    (GOOD.replace("{1: agent}", "{1: nowhere}"), r":7: node 'main' option '1' points to "
     r"unknown node 'nowhere'"),
    (GOOD.replace('number: "555 0100"\n', ""), r":1: company: missing required field 'number'"),
    (GOOD.replace("    say: Hello, this is Pat.\n", ""), r":9: node 'agent': an agent needs"),
    (GOOD.replace("type: agent", "type: robot"), r":9: node 'agent': 'type' must be one of"),
    (GOOD.replace("asterisk:pm-invalid-option", "asterisk:no-such-sound"),
     r":6: node 'main': no Asterisk sound 'no-such-sound'"),
    (GOOD.replace("asterisk:pm-invalid-option", "Press one"), r":6: node 'main': prompt text"),
    (GOOD.replace("{1: agent}", "{12: agent}"), r":7: node 'main': option '12' is not a phone key"),
    (GOOD + "  hold:\n    type: hold\n    music: nope.wav\n    next: agent\n",
     r":13: node 'hold': audio file not found"),
    (GOOD + "start: lobby\n", r":11: company 'start' points to unknown node 'lobby'"),
    ("- just\n- a list\n", r"a company file is a YAML mapping"),
    (GOOD + "    voice: flite:nobody\n", r":11: node 'agent': voice 'flite:nobody' is not one of"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_company_names_file_line_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text(text)
    with pytest.raises(CompanyError, match=message) as info:
        load_company(str(f))
    assert str(info.value).startswith(str(f))


def test_unknown_company_name_lists_the_bundled_ones() -> None:
    with pytest.raises(CompanyError, match="no such company file.*acme_bank"):
        load_company("no_such_company")


def test_cli_exits_2_with_a_clear_message_and_no_traceback(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text(GOOD.replace("{1: agent}", "{1: nowhere}"))
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "simulate", "--company", str(f)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{f}:7: node 'main' option '1' points to unknown node 'nowhere'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_agent_speaks_in_a_voice_of_their_own(tmp_path: Path) -> None:
    """The demo agents are people: their greeting is not in the voice of the IVR's prompts."""
    from engine.simulator.prompts import PromptRenderer
    from engine.simulator.voice import Synthesizer
    from engine.wavio import read_wav

    f = tmp_path / "co.yaml"
    f.write_text(GOOD + "    voice: flite:slt\n")
    agent = load_company(str(f)).nodes["agent"]
    synth = Synthesizer(cache_dir=tmp_path / "tts")
    default = synth.wav_for("Hello, this is Pat.")  # cached first: must not stand in for it
    renderer = PromptRenderer(synth, cache_dir=tmp_path / "prompts")
    own = renderer.render(agent.greeting).path
    assert own != default
    a, b = read_wav(own), read_wav(default)
    assert len(a) > 8000 and len(b) > 8000 and (len(a) != len(b) or (a != b).any())
