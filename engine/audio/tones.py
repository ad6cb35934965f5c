"""Recognising call-progress tones (ringback, DTMF, beeps) from a power spectrum.

These are pure tones, so a frame whose energy sits almost all in one or two narrow peaks is a
tone; where the peaks sit says which. Music has harmonics and is rarely that pure for long.
"""

from __future__ import annotations

import numpy as np

# Ringback tones around the world: US 440+480, EU 425, UK 400+450 Hz.
RINGBACK_BAND = (380.0, 500.0)
DTMF_LOW = (680.0, 960.0)
DTMF_HIGH = (1190.0, 1660.0)


def tone_kind(power: np.ndarray, rate: int, n_fft: int) -> tuple[str, float, int]:
    """('ringback' | 'dtmf' | 'beep' | '', purity, main peak bin) for one frame's power
    spectrum. Callers should also require the peak to hold still over a few frames."""
    lo = int(200 * n_fft / rate)
    hi = int(3600 * n_fft / rate)
    band = power[lo:hi]
    total = float(band.sum())
    if total <= 0.0:
        return "", 0.0, 0
    peaks: list[int] = []
    work = band.copy()
    captured = 0.0
    for _ in range(2):
        k = int(np.argmax(work))
        a, b = max(0, k - 2), min(len(work), k + 3)
        captured += float(work[a:b].sum())
        work[a:b] = 0.0
        peaks.append(k + lo)
    purity = captured / total
    if purity < 0.9:
        return "", purity, peaks[0]
    hz = sorted(p * rate / n_fft for p in peaks)
    if all(RINGBACK_BAND[0] <= f <= RINGBACK_BAND[1] for f in hz):
        return "ringback", purity, peaks[0]
    if DTMF_LOW[0] <= hz[0] <= DTMF_LOW[1] and DTMF_HIGH[0] <= hz[1] <= DTMF_HIGH[1]:
        return "dtmf", purity, peaks[0]
    if purity < 0.97:  # music's sustained notes reach 0.9; a beep is purer
        return "", purity, peaks[0]
    return "beep", purity, peaks[0]  # any other pure tone: beeps, dial / busy tones, SIT tones
