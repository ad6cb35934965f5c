"""How good the line is right now: the share of the far end's RTP packets lost, and jitter.

Why: on a bad line Whisper garbles words ("Welcome to the bus mall") and the user, reading the
transcript, deserves to know the line is to blame, while the call goes on (hold and person
detection hear through 10 % loss). The engine thread feeds each call's cumulative receive
counters (pjsua2's ``rtcp.rxStat``) every watchdog tick; a report comes out once per window,
of the loss in that window (not since the call began, so a line that recovers reads good).
"""

from __future__ import annotations

import dataclasses

WINDOW_S = 5.0
MIN_PACKETS = 50  # a window with fewer (a paused stream) says nothing about the line

# Grades by the window's loss and jitter: G.711 with PLC is clean under 1 % and still
# understood at 3-5 %; past 5 % (or 60 ms of jitter, a buffer that must stretch) words go.
FAIR_LOSS_PCT, POOR_LOSS_PCT = 1.0, 5.0
FAIR_JITTER_MS, POOR_JITTER_MS = 30.0, 60.0


def loss_pct(got: int, missed: int) -> float:
    """The share of packets lost, in percent to one decimal (0 when none were due)."""
    return round(100 * missed / (got + missed), 1) if got + missed else 0.0


def summary(codec: str, whole_call_loss_pct: float | None) -> str:
    """'PCMU/8000, 10.6% of the audio lost': a past call's line, for history."""
    lost = whole_call_loss_pct
    return codec + (f", {lost:g}% of the audio lost" if lost else "")


def grade(loss_pct: float, jitter_ms: float) -> str:
    if loss_pct >= POOR_LOSS_PCT or jitter_ms >= POOR_JITTER_MS:
        return "poor"
    if loss_pct >= FAIR_LOSS_PCT or jitter_ms >= FAIR_JITTER_MS:
        return "fair"
    return "good"


@dataclasses.dataclass(slots=True)
class LineQuality:
    """One call's receive counters between reports."""

    window_s: float = WINDOW_S
    _since: float | None = None
    _pkts: int = 0
    _lost: int = 0

    def update(self, now: float, pkts: int, lost: int, jitter_ms: float) -> dict | None:
        """The window's report once ``window_s`` has passed since the last, else None."""
        if self._since is None or pkts < self._pkts or lost < self._lost:  # first, or reset
            self._since, self._pkts, self._lost = now, pkts, lost
            return None
        if now - self._since < self.window_s:
            return None
        got, missed = pkts - self._pkts, lost - self._lost
        seconds = now - self._since
        self._since, self._pkts, self._lost = now, pkts, lost
        if got + missed < MIN_PACKETS:
            return None
        lost_pct = loss_pct(got, missed)
        jitter_ms = round(max(jitter_ms, 0.0), 1)
        return {"loss_pct": lost_pct, "jitter_ms": jitter_ms, "grade": grade(lost_pct, jitter_ms),
                "window_s": round(seconds, 1), "rx_packets": pkts, "rx_lost": lost}
