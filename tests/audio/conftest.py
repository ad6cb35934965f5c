"""Shared fixtures: real recordings from the Debian packages, a phone-line simulation, and
one Whisper model per test session (loading it per test would cost seconds each)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from engine.audio import sources
from engine.audio.corpus import _line


def _need(path_ok: bool, package: str) -> None:
    if not path_ok:
        pytest.skip(f"needs Debian package {package}")


@pytest.fixture(scope="session")
def prompts():
    _need(sources.prompt_dir() is not None, "asterisk-core-sounds-en-wav")
    return lambda name: sources.load_wav(sources.prompt(name))


@pytest.fixture(scope="session")
def music() -> np.ndarray:
    tracks = sources.hold_music()
    _need(bool(tracks), "asterisk-moh-opsound-wav")
    return sources.load_wav(tracks[0])


@pytest.fixture(scope="session")
def hold_track():
    """One of the Debian hold tracks by name: ``hold_track("the_simplicity")``."""
    tracks = sources.hold_music()
    _need(bool(tracks), "asterisk-moh-opsound-wav")
    return lambda name: sources.load_wav(next(p for p in tracks if name in p.stem))


@pytest.fixture(scope="session")
def rock() -> np.ndarray:
    """A dense, distorted rock song with sung lyrics: a music bed that holds no clear notes."""
    _need(sources.SONGS_DIR.exists(), "fretsonfire-songs-muldjord")
    return sources.song("chaos_god")[16000 * 30 :]


@pytest.fixture(scope="session")
def read_speech() -> list[tuple[np.ndarray, str]]:
    pairs = sources.read_speech()
    _need(bool(pairs), "pocketsphinx-testdata")
    return [(sources.load_wav(p), text) for p, text in pairs]


@pytest.fixture(scope="session")
def whisper():
    from engine.speech.stt import WhisperSTT

    stt = WhisperSTT()
    stt.transcribe(np.zeros(1600, np.int16))  # load once, here
    return stt


@pytest.fixture
def line():
    """Through a phone line: hiss, 8 kHz μ-law, back to 16 kHz."""
    return lambda audio, seed=0: _line(audio, random.Random(seed))


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), np.int16)


def wer(ref: str, hyp: str) -> float:
    """Word error rate (edit distance over words)."""
    import re

    r = re.sub(r"[^a-z0-9' ]", " ", ref.lower()).split()
    h = re.sub(r"[^a-z0-9' ]", " ", hyp.lower()).split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)] / max(1, len(r))
