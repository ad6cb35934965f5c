"""A lossy line for the benchmark: RTP packets lost in bursts, then concealed.

Why: a trunk over the internet loses packets, and the receiver's jitter buffer fills each hole
with a guess (PJMEDIA's PLC repeats the last pitch periods and fades them out). Holes and
guesses change a recording's fingerprint and voice print and Whisper's words; the detector
must still never alarm on a repeat and still hear the person. The corpus is clean, so this
impairs its audio the way a bad line would. ``holdslayer simulate --packet-loss`` is the same
impairment over real SIP (uniform loss, PJSIP's own concealment).
"""

from __future__ import annotations

import numpy as np

RATE = 16000
FRAME = RATE // 50  # one 20 ms packet
FADE_FRAMES = 5  # a guess fades to silence over 100 ms of loss, as receivers do


def _pitch_period(history: np.ndarray) -> int:
    """The strongest lag from 2.5 to 16 ms in the last 40 ms (a voice's or note's period)."""
    lo, hi = RATE // 400, RATE // 62
    x = history[-2 * FRAME :].astype(np.float64)
    if x.size < hi * 2 or not np.any(x):
        return FRAME
    ac = [float(np.dot(x[lag:], x[:-lag])) for lag in range(lo, hi)]
    return lo + int(np.argmax(ac))


def lose_packets(audio: np.ndarray, loss: float, seed: int, burst: float = 1.5
                 ) -> tuple[np.ndarray, int]:  # fmt: skip
    """``audio`` (16 kHz int16) with ``loss`` of its 20 ms packets lost in bursts of ``burst``
    packets on average (a Gilbert model) and concealed; also how many were lost."""
    if loss <= 0:
        return audio, 0
    rng = np.random.default_rng(seed)
    leave = 1.0 / burst  # P(bad → good)
    enter = loss * leave / (1.0 - loss)  # P(good → bad), so that the share lost is ``loss``
    out = audio.copy()
    n = audio.size // FRAME
    bad, run, lost = False, 0, 0
    period, cycle = FRAME, np.zeros(FRAME, np.int16)
    for i in range(1, n):
        bad = rng.random() < (1.0 - leave if bad else enter)
        if not bad:
            run = 0
            continue
        a = i * FRAME
        if run == 0:
            period = _pitch_period(out[:a])
            cycle = out[a - period : a]
        gain = max(0.0, 1.0 - run / FADE_FRAMES)
        reps = np.resize(cycle, FRAME + (run * FRAME) % period)[(run * FRAME) % period :]
        out[a : a + FRAME] = (reps[:FRAME].astype(np.float32) * gain).astype(np.int16)
        run += 1
        lost += 1
    return out, lost
