"""The simulator says when its media clock stalls: the log gets the stall and its end, and
stderr every thread's stack, so a dead line in CI can be traced afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from engine.simulator.clock_watch import ClockWatch, LoopWatch
from engine.simulator.ground_truth import GroundTruthLog


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_stalled_clock_is_logged_once_with_stacks_and_its_end(tmp_path: Path) -> None:
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    stacks = (tmp_path / "stderr.txt").open("w")
    watch = ClockWatch(log, 3, stacks=stacks)
    watch.check(0.0, 100.0)  # not connected yet: nothing
    watch.check(100.0, 100.5)  # ticking
    watch.check(100.0, 101.3)  # 1.3 s without a tick
    watch.check(100.0, 105.0)  # still the same stall: not logged again
    watch.check(106.0, 106.01)  # back
    watch.check(106.5, 106.52)
    stacks.close()
    events = _events(tmp_path / "gt.jsonl")
    assert [(e["event"], e["call"]) for e in events] == [("media_stall", 3), ("media_resumed", 3)]
    assert events[0]["silent_s"] == 1.3 and events[1]["seconds"] == 6.0
    dump = (tmp_path / "stderr.txt").read_text()
    assert "media clock stalled" in dump and "test_clock_watch.py" in dump  # this very stack


def test_a_slow_pass_of_the_main_loop_is_logged(tmp_path: Path) -> None:
    log = GroundTruthLog(tmp_path / "gt.jsonl")
    pace = LoopWatch(log)
    for now in (10.0, 10.02, 10.04, 12.54, 12.56):
        pace.tick(now)
    assert [(e["event"], e["seconds"]) for e in _events(tmp_path / "gt.jsonl")] == \
        [("loop_stall", 2.5)]
