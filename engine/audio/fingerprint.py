"""Acoustic fingerprints of speech segments, so a repeated announcement is recognised
within half a second of its start, before any transcript exists.

Each 20 ms frame yields 16 bits: the sign of the change, over time, of the energy difference
between adjacent telephone-band bands (Haitsma & Kalker's scheme). These bits survive gain
changes, μ-law coding and line noise; the same recording gives a low bit error rate against
itself at any playback level, an unrelated voice gives about 0.5.
"""

from __future__ import annotations

import numpy as np

N_BANDS = 17  # → 16 bits per frame
_POPCOUNT16 = np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


def band_edges(rate: int, n_fft: int) -> np.ndarray:
    """FFT bin edges of N_BANDS log-spaced bands over 300–3400 Hz (what a phone line carries)."""
    hz = np.geomspace(300.0, 3400.0, N_BANDS + 1)
    return np.round(hz * n_fft / rate).astype(int)


def band_energies(power: np.ndarray, edges: np.ndarray) -> np.ndarray:
    cums = np.concatenate([[0.0], np.cumsum(power)])
    e = cums[edges[1:]] - cums[edges[:-1]]
    return np.log(e + 1e-9)


def frame_bits(bands: np.ndarray, prev_bands: np.ndarray | None) -> int:
    """16-bit sub-fingerprint of one frame from its and the previous frame's band energies."""
    if prev_bands is None:
        return 0
    d = (bands[:-1] - bands[1:]) - (prev_bands[:-1] - prev_bands[1:])
    bits = 0
    for i, v in enumerate(d > 0):
        if v:
            bits |= 1 << i
    return bits


def frame_bit_errors(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Bits that differ, frame by frame, between two aligned fingerprints of equal length."""
    return _POPCOUNT16[np.bitwise_xor(query, reference).astype(np.uint16)]


def bit_error_rate(query: np.ndarray, reference: np.ndarray, max_offset: int) -> tuple[float, int]:
    """Lowest bit error rate of ``query`` against ``reference`` over start offsets
    0..max_offset in the reference; returns (ber, best_offset). 1.0 when nothing overlaps."""
    q = len(query)
    if q == 0 or len(reference) < q:
        return 1.0, -1
    n_off = min(max_offset, len(reference) - q) + 1
    windows = np.lib.stride_tricks.sliding_window_view(reference[: n_off + q - 1], q)
    diff = np.bitwise_xor(windows, query[None, :]).astype(np.uint16)
    errors = _POPCOUNT16[diff].sum(axis=1)
    best = int(np.argmin(errors))
    return float(errors[best]) / (q * 16), best
