"""WAV reading, resampling and writing for prompts.

Prompts come from 8 kHz Asterisk recordings and 22.05 kHz Piper speech; the conference bridge
runs at 16 kHz, so every prompt is rendered once into a 16 kHz mono file the player can stream
without converting on the media thread.
"""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path

import numpy as np

BRIDGE_RATE = 16000


class AudioFileError(ValueError):
    """A WAV file we cannot use; the message names the file."""


def read_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the sample rate of a PCM WAV file."""
    p = Path(path)
    try:
        with wave.open(str(p), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise AudioFileError(f"{p}: no such audio file") from None
    except (wave.Error, EOFError) as exc:
        raise AudioFileError(f"{p}: not a PCM WAV file ({exc})") from None
    if width == 2:
        pcm = np.frombuffer(raw, "<i2").astype(np.float64)
    elif width == 1:
        pcm = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 4:
        pcm = np.frombuffer(raw, "<i4").astype(np.float64) / 65536.0
    else:
        raise AudioFileError(f"{p}: {8 * width}-bit samples are not supported")
    if channels > 1:
        pcm = pcm[: pcm.size - pcm.size % channels].reshape(-1, channels).mean(axis=1)
    return np.clip(pcm, -32768, 32767).astype(np.int16), rate


def _lowpass(x: np.ndarray, cutoff: float, taps: int = 63) -> np.ndarray:
    """Windowed-sinc low-pass; ``cutoff`` is a fraction of the sample rate (0..0.5)."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(taps)
    return np.convolve(x, h / h.sum(), mode="same")


def resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample int16 audio; low-passes first when going down so speech does not alias."""
    if src_rate == dst_rate or pcm.size == 0:
        return pcm.astype(np.int16, copy=False)
    x = pcm.astype(np.float64)
    if dst_rate < src_rate:
        x = _lowpass(x, 0.45 * dst_rate / src_rate)
    n_out = int(round(x.size * dst_rate / src_rate))
    out = np.interp(np.arange(n_out) * (src_rate / dst_rate), np.arange(x.size), x)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def write_wav(path: str | os.PathLike[str], pcm: np.ndarray, rate: int = BRIDGE_RATE) -> Path:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=".wav", dir=p.parent)
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(np.asarray(pcm, dtype="<i2").tobytes())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def wav_duration(path: str | os.PathLike[str]) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())
