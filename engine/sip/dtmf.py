"""DTMF planning and in-band tones.

IVRs drop digits sent back to back, so a digit string becomes a timed plan: each key, then a
gap (default 0.3 s); ``,`` inserts a 1 s pause. In-band tones are the fallback that every
G.711 line carries when the far end never negotiated RFC 2833 telephone-event.

An in-band tone lasts 160 ms, where a keypad's 100 ms would do on a perfect line: when the
sender's audio stalls (a GIL-holding model load in this process, measured at 100-150 ms on a
busy machine) the receiver conceals the hole, and the key's first frames arrive bent (one of
its two frequencies 12 dB down for 60-80 ms) or the key in two. A receiver that wants 40 ms
of clean tone then heard nothing in a 100 ms key. 160 ms is also what our SIP INFO keys say.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

import numpy as np

VALID_DIGITS = frozenset("0123456789*#ABCD")
INBAND_TONE_S = 0.16
_LOW = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
        "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
_HIGH = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
         "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633,
         "C": 1633, "D": 1633}


class DtmfMethod(StrEnum):
    RFC2833 = "rfc2833"
    INFO = "info"
    INBAND = "inband"


@dataclasses.dataclass(frozen=True, slots=True)
class DtmfStep:
    """Send ``digit`` (None for a pure pause), then wait ``wait_after`` seconds."""

    digit: str | None
    wait_after: float


def plan_digits(digits: str, spacing: float = 0.3, pause: float = 1.0) -> list[DtmfStep]:
    """``"1,3,,2"`` → key 1, 1 s pause, key 3, 2 s pause, key 2. Whitespace is ignored."""
    steps: list[DtmfStep] = []
    for ch in digits.upper():
        if ch.isspace():
            continue
        if ch == ",":
            steps.append(DtmfStep(None, pause))
        elif ch in VALID_DIGITS:
            steps.append(DtmfStep(ch, spacing))
        else:
            raise ValueError(f"{ch!r} is not a DTMF key (use 0-9, *, #, A-D and ',' for a pause)")
    return steps


def tone(digit: str, sample_rate: int = 16000, duration: float = INBAND_TONE_S,
         level_dbfs: float = -9.0) -> np.ndarray:
    """The dual-tone for ``digit`` as int16 PCM, with 5 ms ramps so it does not click."""
    digit = digit.upper()
    n = int(sample_rate * duration)
    t = np.arange(n) / sample_rate
    amp = 10 ** (level_dbfs / 20) * 32767 / 2
    wave = amp * (np.sin(2 * np.pi * _LOW[digit] * t) + np.sin(2 * np.pi * _HIGH[digit] * t))
    ramp = min(n // 2, int(0.005 * sample_rate))
    if ramp:
        env = np.ones(n)
        env[:ramp] = np.linspace(0, 1, ramp)
        env[-ramp:] = np.linspace(1, 0, ramp)
        wave *= env
    return wave.astype(np.int16)
