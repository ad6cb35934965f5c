"""Where the real recordings live (Debian packages) and how to load them as 16 kHz int16.

The Asterisk prompt package installs under ``sounds/en`` on some releases and under
``sounds/en_US_f_Allison`` on others, so both are searched.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from engine.audio.resample import resample

RATE = 16000
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds")
MOH_DIR = Path("/usr/share/asterisk/moh")
POCKETSPHINX_DATA = Path("/usr/share/pocketsphinx/test/data")
# songs with sung lyrics (fretsonfire-songs-muldjord, CC-BY-SA 3.0, by Muldjord / El Senator):
# hold music with a voice in it, which the detector must not take for a person
SONGS_DIR = Path("/usr/share/games/fretsonfire/data/songs/muldjord")


def prompt_dir() -> Path | None:
    """The installed English Asterisk prompt directory, or None."""
    for name in ("en", "en_US_f_Allison"):
        d = ASTERISK_SOUNDS / name
        if (d / "basic-pbx-ivr-main.wav").exists():
            return d
    return None


def prompt(name: str) -> Path:
    d = prompt_dir()
    if d is None:
        raise FileNotFoundError("asterisk-core-sounds-en-wav is not installed")
    return d / f"{name}.wav"


def hold_music() -> list[Path]:
    return sorted(MOH_DIR.glob("*.wav"))


def song(name: str, rate: int = RATE) -> np.ndarray:
    """A song with lyrics (Ogg Vorbis) as mono int16 at ``rate``, decoded with PyAV (which
    faster-whisper already brings)."""
    import av

    path = SONGS_DIR / name / "song.ogg"
    if not path.exists():
        raise FileNotFoundError(f"{path}: fretsonfire-songs-muldjord is not installed")
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    return np.concatenate(chunks).astype(np.int16)


def read_speech() -> list[tuple[Path, str]]:
    """Real people reading (pocketsphinx-testdata): (wav, transcript) pairs."""
    out: list[tuple[Path, str]] = []
    for sub, listing in (("librivox", "transcription"), ("cards", "cards.transcription")):
        tfile = POCKETSPHINX_DATA / sub / listing
        if not tfile.exists():
            continue
        for line in tfile.read_text().splitlines():
            if "(" not in line:
                continue
            text, _, ident = line.rpartition("(")
            ident = ident.strip(") \n")
            text = text.replace("<s>", "").replace("</s>", "").strip()
            wav = POCKETSPHINX_DATA / sub / f"{ident}.wav"
            if wav.exists():
                out.append((wav, text))
    return out


def load_wav(path: str | Path, rate: int = RATE) -> np.ndarray:
    """Mono int16 at ``rate`` (resampled, first channel if stereo)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        raw = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        channels = w.getnchannels()
        src = w.getframerate()
    if channels > 1:
        raw = raw[::channels]
    return resample(raw.astype(np.int16), src, rate)


def write_wav(path: str | Path, audio: np.ndarray, rate: int = RATE) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.astype("<i2").tobytes())
