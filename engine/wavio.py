"""WAV in and out for the call's audio.

Reading: any PCM WAV (8/16/22.05/44.1 kHz, mono or stereo) becomes 16 kHz mono int16, the
rate of the conference bridge. Writing: :class:`GrowingWavWriter` patches the RIFF sizes in
the header every time it flushes, so a recording cut short by a crash or ``kill -9`` is still
a readable WAV up to the last flush.
"""

from __future__ import annotations

import os
import struct
import wave
from pathlib import Path

import numpy as np

BRIDGE_RATE = 16000


class AudioFileError(ValueError):
    """A WAV file we cannot play: the message names the file and the problem."""


def resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Linear-interpolation resampling; plenty for telephone-band speech and tones."""
    if src_rate == dst_rate or pcm.size == 0:
        return pcm.astype(np.int16, copy=False)
    n_out = int(round(pcm.size * dst_rate / src_rate))
    x_out = np.arange(n_out) * (src_rate / dst_rate)
    out = np.interp(x_out, np.arange(pcm.size), pcm.astype(np.float64))
    return np.clip(out, -32768, 32767).astype(np.int16)


def read_wav(path: str | os.PathLike[str], rate: int = BRIDGE_RATE) -> np.ndarray:
    """Mono int16 PCM at ``rate`` from a PCM WAV file."""
    p = Path(path)
    try:
        with wave.open(str(p), "rb") as w:
            width, channels, src_rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise AudioFileError(f"{p}: no such audio file") from None
    except (wave.Error, EOFError) as exc:
        raise AudioFileError(f"{p}: not a PCM WAV file ({exc})") from None
    if width == 2:
        pcm = np.frombuffer(raw, "<i2")
    elif width == 1:
        pcm = ((np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif width == 4:
        pcm = (np.frombuffer(raw, "<i4") >> 16).astype(np.int16)
    else:
        raise AudioFileError(f"{p}: {8 * width}-bit samples are not supported")
    if channels > 1:
        pcm = pcm[: pcm.size - pcm.size % channels].reshape(-1, channels).mean(axis=1)
    return resample(np.asarray(pcm), src_rate, rate)


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
