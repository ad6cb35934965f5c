"""G.711 μ-law coding, so test calls carry the same quantisation a phone line adds."""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_CLIP = 32635


def ulaw_encode(x: np.ndarray) -> np.ndarray:
    """int16 PCM → μ-law bytes (uint8), ITU-T G.711."""
    s = x.astype(np.int32)
    sign = (s < 0).astype(np.int32)
    mag = np.minimum(np.abs(s), _CLIP) + _BIAS
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    code = ~((sign << 7) | (exponent << 4) | mantissa) & 0xFF
    return code.astype(np.uint8)


def ulaw_decode(code: np.ndarray) -> np.ndarray:
    """μ-law bytes → int16 PCM."""
    c = (~code.astype(np.int32)) & 0xFF
    sign = c & 0x80
    exponent = (c >> 4) & 0x07
    mantissa = c & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def ulaw_roundtrip(x: np.ndarray) -> np.ndarray:
    return ulaw_decode(ulaw_encode(x))
