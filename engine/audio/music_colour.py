"""The hold music's colour (its average spectrum's shape), to tell a voice over that music
from a voice with something else behind it.

Why: a presenter or a lyric over the hold music is no person, and the music between their
words gives it away. Tonal music holds its notes there (``FrameInfo.held``), but dense,
distorted rock holds none, just like a busy room behind an agent. What does tell them apart
is the sound itself: the gaps of a voice over the music have the colour of the music heard
just before (measured: 0.9–2.7 dB from it for four rock songs 12–27 dB down), a call
centre's room behind the person who picked up has its own (4–7 dB from the music before).
Levels are left out: a bed is ducked under the voice.
"""

from __future__ import annotations

import numpy as np

from engine.audio.frame_classifier import FrameInfo, Label

_DB = 10 / np.log(10)  # the bands are natural-log energies
MUSIC_TAU_S = 6.0  # the colour follows the music over its last seconds
MUSIC_MIN_S = 1.0  # ...and means something once this much of it was heard


class Colour:
    """The mean log band energies of the frames added (``FrameInfo.bands``)."""

    __slots__ = ("sum", "n")

    def __init__(self) -> None:
        self.sum: np.ndarray | None = None
        self.n = 0

    def add(self, bands: np.ndarray | None) -> None:
        if bands is None:
            return
        self.sum = bands.astype(np.float64) if self.sum is None else self.sum + bands
        self.n += 1

    def mean(self) -> np.ndarray | None:
        return None if self.sum is None else self.sum / self.n


def distance_db(a: np.ndarray, b: np.ndarray) -> float:
    """How far apart two spectra's shapes are, in dB (RMS over bands, levels removed)."""
    d = (a - a.mean()) - (b - b.mean())
    return float(np.sqrt(np.mean(d * d)) * _DB)


class MusicColour:
    """Follows the colour of the music frames heard (a running mean over ~6 s)."""

    def __init__(self) -> None:
        self._ema: np.ndarray | None = None
        self._level = 0.0
        self._frames = 0

    def on_frame(self, info: FrameInfo) -> None:
        if info.raw != Label.MUSIC or info.bands is None:
            return
        if self._ema is None:
            self._ema = info.bands.astype(np.float64)
            self._level = info.rms_dbfs
        else:
            self._ema += (info.bands - self._ema) * (0.02 / MUSIC_TAU_S)
            self._level += (info.rms_dbfs - self._level) * (0.02 / MUSIC_TAU_S)
        self._frames += 1

    def now(self) -> np.ndarray | None:
        """The music's colour so far (None: too little music heard yet)."""
        if self._ema is None or self._frames * 0.02 < MUSIC_MIN_S:
            return None
        return self._ema.copy()

    def level(self) -> float | None:
        """The music's level so far, dBFS (None: too little music heard yet)."""
        return self._level if self._ema is not None and self._frames * 0.02 >= MUSIC_MIN_S \
            else None
