"""WAV helpers for prompts: the engine's :mod:`engine.wavio`, under the names the simulator
has always used. Prompts are rendered once into 16 kHz mono files (the bridge's rate) so the
player streams them without converting on the media thread."""

from __future__ import annotations

from engine.wavio import (
    BRIDGE_RATE,
    AudioFileError,
    resample,
    wav_duration,
    write_wav,
)
from engine.wavio import read_wav_native as read_wav

__all__ = ["BRIDGE_RATE", "AudioFileError", "read_wav", "resample", "wav_duration", "write_wav"]
