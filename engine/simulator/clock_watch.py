"""Notices when a call's audio stops leaving the simulator, and says so in the ground-truth log.

Why: pjmedia's clock thread sends each call's RTP and calls our caller tap every 20 ms. If that
thread stalls (it waits for the GIL in the tap, or for the conference mutex), the company goes
silent with no BYE and the caller hangs up on a dead line. That has happened, rarely, under
CI's load, and left nothing to read. So the main loop compares each tap's last tick with the
clock, and at a stall writes ``media_stall`` and every thread's Python stack to stderr; when
the clock comes back, ``media_resumed`` with how long it was gone. The loop's own stalls (one
pass of it taking over a second) are logged as ``loop_stall``.
"""

from __future__ import annotations

import faulthandler
import sys
from typing import TextIO

from engine.simulator.ground_truth import GroundTruthLog

STALL_S = 1.0  # 50 missed ticks: no scheduling hiccup of a loaded machine comes close


class ClockWatch:
    """One per call: ``check(ticked, now)`` from the main loop, with the tap's last tick."""

    def __init__(self, log: GroundTruthLog, call: int, stall_s: float = STALL_S,
                 stacks: TextIO | None = None) -> None:  # fmt: skip
        self.log, self.call, self.stall_s = log, call, stall_s
        self.stacks = stacks if stacks is not None else sys.stderr
        self.stalled_since: float | None = None

    def check(self, ticked: float, now: float) -> None:
        """``ticked``: monotonic time of the tap's last tick (0: not started); ``now``: the same
        clock."""
        if ticked <= 0:
            return
        if self.stalled_since is None:
            if now - ticked > self.stall_s:
                self.stalled_since = ticked
                self.log.write("media_stall", self.call, silent_s=round(now - ticked, 3))
                _dump_stacks(self.stacks, f"simulator call {self.call}: media clock stalled")
        elif ticked > self.stalled_since:
            self.log.write("media_resumed", self.call,
                           seconds=round(ticked - self.stalled_since, 3))
            self.stalled_since = None


class LoopWatch:
    """The main loop's own pace: one pass over ``stall_s`` is logged with its length."""

    def __init__(self, log: GroundTruthLog, stall_s: float = STALL_S) -> None:
        self.log, self.stall_s = log, stall_s
        self.last: float | None = None

    def tick(self, now: float) -> None:
        if self.last is not None and now - self.last > self.stall_s:
            self.log.write("loop_stall", seconds=round(now - self.last, 3))
        self.last = now


def _dump_stacks(out: TextIO, why: str) -> None:
    try:
        print(f"--- {why}; every thread's stack:", file=out, flush=True)
        faulthandler.dump_traceback(out, all_threads=True)
    except (OSError, ValueError, AttributeError):  # no real file behind ``out``: log line only
        pass
