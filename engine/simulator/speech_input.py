"""What a caller says to a speech menu ("say billing or technical support"), heard the way a
real IVR hears it: the caller's audio is cut into utterances by energy (a phone line from a
softphone is digital silence between words) and each utterance is transcribed by the offline
Whisper on a worker thread, so the SIP event loop never waits for speech-to-text.

Why a thread and a queue: the simulator's pj objects live on its one engine thread; Whisper
takes a few hundred milliseconds. The worker touches only numpy arrays and strings.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

FRAME_S = 0.02


class SpeechInput:
    """``feed(pcm, t)`` every caller frame while a speech menu listens; ``results()`` yields
    ``(text, t_end)`` for each utterance once transcribed."""

    def __init__(self, transcribe: Callable[[np.ndarray], str] | None = None, *,
                 threshold_dbfs: float = -40.0, end_silence_s: float = 0.6,
                 min_speech_s: float = 0.25, max_utterance_s: float = 6.0) -> None:
        self._transcribe = transcribe
        self._threshold = 32768 * 10 ** (threshold_dbfs / 20)
        self._end_frames = int(end_silence_s / FRAME_S)
        self._min_frames = int(min_speech_s / FRAME_S)
        self._max_frames = int(max_utterance_s / FRAME_S)
        self._frames: list[np.ndarray] = []
        self._voiced = 0
        self._quiet = 0
        self._jobs: queue.SimpleQueue[tuple[np.ndarray, float] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def feed(self, pcm: np.ndarray, t: float) -> None:
        rms = float(np.sqrt(np.mean(pcm.astype(np.float32) ** 2))) if len(pcm) else 0.0
        loud = rms >= self._threshold
        if not self._frames and not loud:
            return
        self._frames.append(pcm)
        if loud:
            self._voiced += 1
            self._quiet = 0
        else:
            self._quiet += 1
        if self._quiet >= self._end_frames or len(self._frames) >= self._max_frames:
            if self._voiced >= self._min_frames:
                self._submit(np.concatenate(self._frames), t)
            self.reset()

    def reset(self) -> None:
        """Forget a half-heard utterance (the menu moved on)."""
        self._frames, self._voiced, self._quiet = [], 0, 0

    def results(self) -> list[tuple[str, float]]:
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        if self._worker is not None:
            self._jobs.put(None)

    def _submit(self, audio: np.ndarray, t: float) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="sim-speech", daemon=True)
            self._worker.start()
        self._jobs.put((audio, t))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            audio, t = job
            try:
                text = self._stt()(audio)
            except Exception as exc:  # a broken model: the caller is simply not understood
                log.warning("speech input could not transcribe: %s", exc)
                text = ""
            self._done.put((text, t))

    def _stt(self) -> Callable[[np.ndarray], str]:
        if self._transcribe is None:
            self._transcribe = _shared_whisper().transcribe
        return self._transcribe


_whisper = None
_whisper_lock = threading.Lock()


def _shared_whisper():  # noqa: ANN202 - engine.speech's type, imported lazily
    """One offline Whisper per simulator process, loaded only if a company listens."""
    global _whisper
    with _whisper_lock:
        if _whisper is None:
            from engine.speech.stt import WhisperSTT

            _whisper = WhisperSTT()
        return _whisper


def warm_whisper() -> None:
    """Load the Whisper of a company that listens before its first call: a load in a call
    holds the GIL long enough to stall the call's audio both ways (see
    ``engine.audio.analyzer.warm_up``)."""
    _shared_whisper().warm_up()


def match_phrase(phrases: dict[str, str], heard: str) -> str | None:
    """The node a heard utterance asks for: the phrase whose words were all said (the
    longest such phrase wins: "technical support" over "support"); None when none or two
    equally long ones were said."""
    words = set(_words(heard))
    hits = [(len(_words(p)), target) for p, target in phrases.items()
            if _words(p) and all(any(h.startswith(w[:5]) for h in words) for w in _words(p))]
    if not hits:
        return None
    hits.sort(reverse=True)
    if len(hits) > 1 and hits[0][0] == hits[1][0] and hits[0][1] != hits[1][1]:
        return None
    return hits[0][1]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())
