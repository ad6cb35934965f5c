"""Loudness of one frame for the live meter, in dBFS (0 = full-scale int16)."""

from __future__ import annotations

import math

import numpy as np

FLOOR_DBFS = -96.0  # what digital silence reads as; int16 cannot go much lower
# quieter than this is the line's silence, no sound anyone made (hiss, a far-off hum): the
# classifier's silence level, and the detector's for gaps and quiet after a turn
LINE_SILENCE_DBFS = -50.0


def frame_levels(frame: np.ndarray) -> tuple[float, float]:
    """(rms_dbfs, peak_dbfs) of an int16 frame; silence reads as FLOOR_DBFS, never -inf."""
    if frame.size == 0:
        return FLOOR_DBFS, FLOOR_DBFS
    x = frame.astype(np.float32) / 32768.0
    rms = math.sqrt(float(np.dot(x, x)) / x.size)
    peak = float(np.max(np.abs(x)))
    return _db(rms), _db(peak)


def _db(value: float) -> float:
    if value <= 10 ** (FLOOR_DBFS / 20):
        return FLOOR_DBFS
    return round(20.0 * math.log10(value), 2)
