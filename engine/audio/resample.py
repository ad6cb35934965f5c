"""Sample-rate conversion for whole clips (prompts, synthesised speech, corpus audio).

FFT resampling is exact for band-limited audio and needs no SciPy; it is meant for clips of
seconds to minutes, not for the per-frame live path (the engine's bridge already runs at 16 kHz).
"""

from __future__ import annotations

import numpy as np


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample ``x`` (int16 or float) from ``src_rate`` to ``dst_rate``; keeps the dtype."""
    if src_rate == dst_rate or x.size == 0:
        return x.copy()
    n_out = int(round(x.size * dst_rate / src_rate))
    spec = np.fft.rfft(x.astype(np.float64))
    n_bins = n_out // 2 + 1
    if n_bins <= spec.size:
        spec = spec[:n_bins]
    else:
        spec = np.concatenate([spec, np.zeros(n_bins - spec.size, dtype=spec.dtype)])
    y = np.fft.irfft(spec, n_out) * (n_out / x.size)
    if x.dtype == np.int16:
        return np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return y.astype(x.dtype)


def to_int16(x: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16, clipping instead of wrapping around."""
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def to_float(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) / 32768.0
