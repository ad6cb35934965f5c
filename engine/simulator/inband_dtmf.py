"""In-band DTMF detection: Goertzel filters over the caller's audio.

Some callers (and Hold Slayer's own fallback) send digits as tones inside the audio, with no
RFC 2833 event or SIP INFO. Analysis windows of 20 ms slide by 10 ms so that a 50 ms tone fills
at least three whole windows; a digit is reported after ``min_hits`` consecutive windows agree,
and the same or another digit only after ``min_gap`` windows without a tone. Speech and music
are rejected by requiring the two DTMF tones to carry most of the window's energy, each to
stand well above its group neighbours, and the twist between them to be small.
"""

from __future__ import annotations

import numpy as np

LOW_FREQS = (697.0, 770.0, 852.0, 941.0)
HIGH_FREQS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")


class InbandDtmfDetector:
    def __init__(
        self,
        rate: int = 16000,
        window_ms: float = 20.0,
        hop_ms: float = 10.0,
        min_hits: int = 3,
        min_gap: int = 3,
        min_level_dbfs: float = -45.0,
        min_tone_ratio: float = 0.65,
        max_twist_db: float = 8.0,
        min_peak_db: float = 8.0,
    ) -> None:
        self.rate = rate
        self.window = int(rate * window_ms / 1000)
        self.hop = int(rate * hop_ms / 1000)
        self.min_hits = min_hits
        self.min_gap = min_gap
        self.min_power = (32768.0 * 10 ** (min_level_dbfs / 20)) ** 2 / 2
        self.min_tone_ratio = min_tone_ratio
        self.max_twist = 10 ** (max_twist_db / 10)
        self.min_peak = 10 ** (min_peak_db / 10)
        n = np.arange(self.window)
        freqs = np.array(LOW_FREQS + HIGH_FREQS)
        self._basis = np.exp(-2j * np.pi * np.outer(freqs, n) / rate)
        self._buf = np.zeros(0, np.float64)
        self._candidate: str | None = None
        self._hits = 0
        self._quiet = min_gap  # windows since the last tone; starts "ready"
        self._armed = True
        self.samples_seen = 0

    def reset(self) -> None:
        self._buf = np.zeros(0, np.float64)
        self._candidate, self._hits, self._quiet, self._armed = None, 0, self.min_gap, True

    def classify(self, x: np.ndarray) -> str | None:
        """The digit one window holds, or None."""
        mean_power = float(np.dot(x, x)) / x.size
        if mean_power < self.min_power:
            return None
        p = 2.0 * np.abs(self._basis @ x) ** 2 / (x.size**2)
        lo, hi = p[:4], p[4:]
        i, j = int(np.argmax(lo)), int(np.argmax(hi))
        if (lo[i] + hi[j]) < self.min_tone_ratio * mean_power:
            return None
        if not (1 / self.max_twist <= hi[j] / lo[i] <= self.max_twist):
            return None
        if np.sort(lo)[-2] * self.min_peak > lo[i] or np.sort(hi)[-2] * self.min_peak > hi[j]:
            return None
        return KEYPAD[i][j]

    def feed(self, pcm: np.ndarray) -> list[tuple[str, float]]:
        """Digits whose tone became certain in ``pcm``, each with its onset in seconds since
        the first sample ever fed."""
        out: list[tuple[str, float]] = []
        start_index = self.samples_seen - self._buf.size
        self._buf = np.concatenate([self._buf, np.asarray(pcm, np.float64)])
        self.samples_seen += len(pcm)
        pos = 0
        while pos + self.window <= self._buf.size:
            digit = self.classify(self._buf[pos : pos + self.window])
            if digit is None:
                self._quiet += 1
                self._hits = 0
                self._candidate = None
                if self._quiet >= self.min_gap:
                    self._armed = True
            else:
                if digit == self._candidate:
                    self._hits += 1
                else:
                    self._candidate, self._hits = digit, 1
                self._quiet = 0
                if self._armed and self._hits >= self.min_hits:
                    onset = start_index + pos - (self.min_hits - 1) * self.hop
                    out.append((digit, onset / self.rate))
                    self._armed = False
            pos += self.hop
        self._buf = self._buf[pos:]
        return out


def dtmf_tone(
    digit: str, seconds: float, rate: int = 16000, level_dbfs: float = -10.0
) -> np.ndarray:
    """A DTMF tone as int16 samples (for tests and for callers that send in-band)."""
    where = [(i, row.index(digit)) for i, row in enumerate(KEYPAD) if digit in row]
    if len(digit) != 1 or not where:
        raise ValueError(f"not a DTMF key: {digit!r}")
    i, j = where[0]
    t = np.arange(int(rate * seconds)) / rate
    amp = 32767 * 10 ** (level_dbfs / 20) / 2
    x = amp * (np.sin(2 * np.pi * LOW_FREQS[i] * t) + np.sin(2 * np.pi * HIGH_FREQS[j] * t))
    return x.astype(np.int16)
