"""A call centre behind the person, for the benchmark.

Why: the corpus's people speak from dead quiet, but a real agent's headset is open to a room
of other agents talking and to the room's hum, from the moment they pick up. That room fills
the pause in which a person waits for an answer (the turn-taking cue) and sits under their
words (voice activity, Whisper). This mixes a room into a built call so the detector can be
measured on people it was never tuned on: babble of real read speech (pocketsphinx-testdata,
several talkers at once) and a pink hum, ``room_db`` below the person's speech, through the
same 8 kHz μ-law line as the call.
"""

from __future__ import annotations

import random

import numpy as np

from engine.audio import sources
from engine.audio.corpus import CorpusCall
from engine.audio.g711 import ulaw_roundtrip
from engine.audio.resample import resample

RATE = 16000
TALKERS = 4


def _talker(clips: list[np.ndarray], n: int, rng: random.Random) -> np.ndarray:
    """One colleague talking on and off: clips in a random order with short pauses."""
    out = np.zeros(n, np.float32)
    k = rng.randrange(0, RATE)
    while k < n:
        clip = clips[rng.randrange(len(clips))].astype(np.float32) * 10 ** (rng.uniform(-4, 4) / 20)
        m = min(len(clip), n - k)
        out[k : k + m] = clip[:m]
        k += m + int(rng.uniform(0.3, 2.5) * RATE)
    return out


def _pink(n: int, nrng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise, unit RMS: a room's ventilation and hum."""
    spec = np.fft.rfft(nrng.normal(size=n))
    spec[1:] /= np.sqrt(np.arange(1, spec.size))
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    return (x / (np.sqrt(np.mean(x**2)) or 1.0)).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0


def in_a_room(call: CorpusCall, room_db: float, seed: int) -> np.ndarray:
    """``call``'s audio with a call centre behind its person, ``room_db`` (negative) below
    the person's speech level, from the moment they pick up to the end of the call."""
    human = next((sp for sp in call.spans if sp.cls == "human"), None)
    if human is None:
        return call.audio
    rng = random.Random(f"room-{call.id}-{seed}")
    nrng = np.random.default_rng(rng.randrange(2**32))
    start = int((call.hold_end if call.hold_end is not None else human.start - 0.2) * RATE)
    start = max(0, min(start, int(human.start * RATE)))
    n = len(call.audio) - start
    a, b = int(human.start * RATE), int(human.end * RATE)
    voiced = call.audio[a:b]
    level = _rms(voiced[np.abs(voiced) > 0.1 * (np.abs(voiced).max() or 1)])
    clips = [sources.load_wav(p) for p, _ in sources.read_speech()]
    babble = sum(_talker(clips, n, rng) for _ in range(TALKERS))
    babble *= level * 10 ** (room_db / 20) / (_rms(babble) or 1.0)
    hum = _pink(n, nrng) * level * 10 ** ((room_db - 8) / 20)
    room = np.clip(babble + hum, -32768, 32767).astype(np.int16)
    room = resample(ulaw_roundtrip(resample(room, RATE, 8000)), 8000, RATE)[:n]
    out = call.audio.astype(np.float32)
    out[start : start + len(room)] += room
    return np.clip(out, -32768, 32767).astype(np.int16)
