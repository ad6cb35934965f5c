"""Who is speaking: a speaker embedding ("voice print") per speech segment, so a voice the
line has never played before can be told from the company's recorded voice(s) a second into
it, before the words that give a person away have been said.

Why this model and this way: a live agent is almost never the voice of the company's menu and
announcements, and words ("this is Dana") come 1.5–3 s into a greeting, a voice in under one.
The network is Resemblyzer's GE2E speaker encoder (3-layer LSTM over 40 mel bands, Apache-2.0),
converted once to NumPy (see ``assets/models/voice-encoder/README.md``) so that no PyTorch is
needed: ~10 ms of CPU for a second of speech.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WEIGHTS = Path(__file__).resolve().parents[2] / "assets" / "models" / "voice-encoder"
WEIGHTS_FILE = WEIGHTS / "voice_encoder.npz"


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (linear below 1 kHz, log above), as librosa computes it."""
    f = np.asarray(f, dtype=np.float64)
    mel = f / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log_part, mel)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    hz = m * (200.0 / 3)
    exp_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, exp_part, hz)


@functools.cache
def mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT//2+1) Slaney-normalised triangular filters, librosa's defaults."""
    fft_hz = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2 : N_MELS + 2] - mel_hz[:N_MELS]))[:, None]
    return weights.astype(np.float32)


def mel_frames(pcm: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram of 16 kHz audio, normalised to -30 dBFS like the
    encoder's training data (level must not change who it sounds like)."""
    x = pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm.astype(np.float32)
    rms = float(np.sqrt(np.mean(x**2) + 1e-12))
    x = x * (10 ** (-30 / 20) / rms)
    x = np.pad(x, N_FFT // 2, mode="reflect") if len(x) > N_FFT // 2 else np.pad(x, N_FFT // 2)
    n = 1 + (len(x) - N_FFT) // HOP
    if n <= 0:
        return np.zeros((0, N_MELS), np.float32)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    spec = np.abs(np.fft.rfft(x[idx] * window, axis=1)) ** 2
    return (spec @ mel_filters().T).astype(np.float32)


class VoiceEncoder:
    """Speech (16 kHz int16) → a 256-d unit vector; cosine similarity ≈ same speaker."""

    def __init__(self, path: Path = WEIGHTS_FILE) -> None:
        with np.load(path) as w:
            self._layers = [
                (
                    w[f"lstm_weight_ih_l{k}"].astype(np.float32).T.copy(),
                    w[f"lstm_weight_hh_l{k}"].astype(np.float32).T.copy(),
                    (w[f"lstm_bias_ih_l{k}"] + w[f"lstm_bias_hh_l{k}"]).astype(np.float32),
                )
                for k in range(3)
            ]
            self._lin_w = w["linear_weight"].astype(np.float32).T.copy()
            self._lin_b = w["linear_bias"].astype(np.float32)

    def embed(self, pcm: np.ndarray) -> np.ndarray:
        """The voice print of one stretch of speech (best with 0.8 s or more of it)."""
        x = mel_frames(pcm)
        for w_ih, w_hh, b in self._layers:
            x = _lstm(x, w_ih, w_hh, b)
        e = np.maximum(0.0, x[-1] @ self._lin_w + self._lin_b)
        norm = float(np.linalg.norm(e))
        return e / norm if norm > 0 else e


def _lstm(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One PyTorch-layout LSTM layer (gates i, f, g, o) over the whole sequence."""
    hidden = w_hh.shape[0]
    gates_in = x @ w_ih + b  # the input half of every step at once
    h = np.zeros(hidden, np.float32)
    c = np.zeros(hidden, np.float32)
    out = np.empty((len(x), hidden), np.float32)
    with np.errstate(over="ignore"):  # exp overflows on g's quarter, whose sigmoid is unused
        for t in range(len(x)):
            g = gates_in[t] + h @ w_hh
            sg = _sigmoid(g)  # i, f and o in one call (g's third quarter goes through tanh)
            c = sg[hidden : 2 * hidden] * c + sg[:hidden] * np.tanh(g[2 * hidden : 3 * hidden])
            h = sg[3 * hidden :] * np.tanh(c)
            out[t] = h
    return out


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


@functools.cache
def shared_encoder() -> VoiceEncoder:
    """One encoder per process: the weights are read-only, every call can use them."""
    return VoiceEncoder()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))
