"""WAV in and out for the call's audio.

Reading: any PCM WAV (8/16/22.05/44.1 kHz, mono or stereo) becomes 16 kHz mono int16, the
rate of the conference bridge. Writing: :class:`GrowingWavWriter` patches the RIFF sizes in
the header every time it flushes, so a recording cut short by a crash or ``kill -9`` is still
a readable WAV up to the last flush.
"""

from __future__ import annotations

import os
import struct
import tempfile
import wave
from pathlib import Path

import numpy as np

BRIDGE_RATE = 16000


class AudioFileError(ValueError):
    """A WAV file we cannot play: the message names the file and the problem."""


def read_wav_native(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
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


def read_wav(path: str | os.PathLike[str], rate: int = BRIDGE_RATE) -> np.ndarray:
    """Mono int16 PCM at ``rate`` from a PCM WAV file."""
    pcm, src_rate = read_wav_native(path)
    return resample(pcm, src_rate, rate)


class GrowingWavWriter:
    """16-bit mono WAV written incrementally; the header is valid after every :meth:`flush`."""

    def __init__(self, path: str | os.PathLike[str], rate: int = BRIDGE_RATE) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rate = rate
        self.samples = 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(self._fd, self._header(0))

    def _header(self, n_samples: int) -> bytes:
        data_bytes = 2 * n_samples
        return struct.pack(
            "<4sI4s4sIHHIIHH4sI",
            b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, 1,
            self.rate, self.rate * 2, 2, 16, b"data", data_bytes,
        )

    def write(self, pcm: np.ndarray) -> None:
        data = np.asarray(pcm, dtype="<i2").tobytes()
        os.write(self._fd, data)
        self.samples += len(data) // 2

    def flush(self) -> None:
        """Make what is written so far a complete WAV on disk."""
        os.pwrite(self._fd, self._header(self.samples), 0)
        os.fsync(self._fd)

    @property
    def duration(self) -> float:
        return self.samples / self.rate

    def close(self) -> None:
        if self._fd >= 0:
            self.flush()
            os.close(self._fd)
            self._fd = -1
