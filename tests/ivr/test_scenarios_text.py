"""Every scenario company, every intent, heard as transcripts (clean, and roughened the way
speech-to-text roughens them): the offline navigator reaches the expected queue.

The offline rules were tuned on the ``tune`` half of ``assets/scenarios/scenarios.yaml``;
the ``test`` half measures them. Misses are listed in the output, honestly; the thresholds
below are the issue's target (95 %). The ``test`` half's misses were once analysed (and
fixed only by general rules: a dispute is not fraud, when-words, the caller's role), so it
is no longer untouched; the ``fresh`` intents (one per company, written after tuning) are,
and their floor is lower.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.config import ProfileSettings
from engine.events import EventBus
from engine.ivr.session import IvrSession
from tests.ivr.text_ivr import TextIvr

SCENARIOS = Path(__file__).resolve().parents[2] / "assets" / "scenarios"
INDEX = yaml.safe_load((SCENARIOS / "scenarios.yaml").read_text())
PROFILE = ProfileSettings(**INDEX["profile"])


def run(entry: dict, intent: dict, seed: int | None) -> tuple[bool, list[str]]:
    bus = EventBus()
    ivr = TextIvr(SCENARIOS / entry["file"], bus, seed=seed)
    session = IvrSession(ivr, bus, "c1", intent["intent"], entry["name"],
                         profile=PROFILE, tts=ivr.tts).start()
    ivr.start()
    session.wait(10)
    session.stop()
    return ivr.reached == intent["queue"], ivr.visited


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[tuple[str, bool, list[str]]]]:
    out: dict[str, list[tuple[str, bool, list[str]]]] = {"tune": [], "test": [], "fresh": []}
    for entry in INDEX["scenarios"]:
        for split, intents in ((entry["split"], entry["intents"]),
                               ("fresh", entry.get("fresh", []))):
            for intent in intents:
                for seed in (None, 7):
                    ok, visited = run(entry, intent, seed)
                    name = f"{entry['company']}: {intent['intent']!r} (seed {seed})"
                    out[split].append((name, ok, visited))
    return out


def test_scenario_set_is_big_and_varied():
    entries = INDEX["scenarios"]
    assert len(entries) >= 30
    depths = {i["depth"] for e in entries for i in e["intents"]}
    assert {1, 2, 3, 4, 5} <= depths


@pytest.mark.parametrize("split,target", [("tune", 0.95), ("test", 0.95), ("fresh", 0.85)])
def test_right_queue_rate(outcomes, split, target):
    results = outcomes[split]
    rate = sum(ok for _, ok, _ in results) / len(results)
    misses = [f"{name} -> {visited}" for name, ok, visited in results if not ok]
    print(f"\n{split}: {rate:.1%} right queue over {len(results)} runs; misses:\n  "
          + "\n  ".join(misses))
    assert rate >= target, misses
