"""Run the live detection pipeline over a recorded call, in order and without looking ahead,
faster than real time but with the timing of real time.

Why a virtual clock: the benchmark and tests must measure the latency a live call would see.
Speech-to-text takes real CPU time, during which the call goes on; so each transcript is
handed to the detector only once the audio clock has passed the moment a single STT worker
(busy with earlier requests) would have finished it.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Callable, Iterable

import numpy as np

from engine.audio.announcement_memory import AnnouncementMemory
from engine.audio.blas import one_blas_thread
from engine.audio.call_state import (
    CallStateDetector,
    Decision,
    DetectorSettings,
    Episode,
    SttRequest,
)
from engine.audio.frame_classifier import FRAME, FrameClassifier, Label
from engine.audio.voice_print import shared_encoder
from engine.speech.stt import SHORT_FINAL_S, SpeechToText, SttError, transcribe_partial

# (audio, final) → (text, CPU seconds it took); partials may take a quicker, rougher path
Transcriber = Callable[[np.ndarray, bool], tuple[str, float]]
# (sample where our phrase starts, its length in s) → the call's audio from then on as the
# far end reacts (a person stops, then answers), or None where it ignores us (a recording)
FarEnd = Callable[[int, float], np.ndarray | None]


@dataclasses.dataclass(slots=True)
class Transcript:
    start: float
    end: float
    text: str
    final: bool
    available_at: float


@dataclasses.dataclass(slots=True)
class ReplayResult:
    decisions: list[Decision]
    labels: list[Label]  # smoothed label per 20 ms frame
    phases: list[str]  # detector phase per frame
    transcripts: list[Transcript]
    frame_cpu_s: float  # per-frame classifier + detector work
    stt_cpu_s: float  # speech-to-text work
    duration_s: float
    said_at: list[float] = dataclasses.field(default_factory=list)  # liveness phrases
    episodes: list[Episode] = dataclasses.field(default_factory=list)  # every turn heard

    def first(self, kind: str) -> Decision | None:
        return next((d for d in self.decisions if d.kind == kind), None)


def timed(stt: SpeechToText) -> Transcriber:
    def run(audio: np.ndarray, final: bool = True) -> tuple[str, float]:
        t0 = time.process_time()
        text = stt.transcribe(audio) if final else transcribe_partial(stt, audio)
        return text, time.process_time() - t0

    return run


def modelled(stt: SpeechToText, partial_s: float = 0.12, final_s: float = 0.45,
             per_audio_s: float = 0.01) -> Transcriber:
    """Whisper's words, on a fixed schedule instead of this machine's CPU time: a partial
    or a short final ``partial_s`` (the 10 s encoder window), a longer final ``final_s``
    (the 30 s one), each plus ``per_audio_s`` per second of audio for decoding. The defaults
    are the embedded tiny.en on the 2-core machine the detector was tuned on. Why: a test
    asserts what the detector decides when the words come; with :func:`timed` the answer
    moved with the machine (a 3x slower one made four tests fail). How fast this machine
    is, ``bench/`` measures."""

    def run(audio: np.ndarray, final: bool = True) -> tuple[str, float]:
        text = stt.transcribe(audio) if final else transcribe_partial(stt, audio)
        long = final and len(audio) > SHORT_FINAL_S * 16000
        return text, (final_s if long else partial_s) + per_audio_s * len(audio) / 16000

    return run


def replay(
    audio: np.ndarray,
    transcribe: Transcriber | None,
    settings: DetectorSettings | None = None,
    memory: AnnouncementMemory | None = None,
    stop_after_human_s: float | None = None,
    far_end: FarEnd | None = None,
    phrase_s: float = 1.4,
    voice_prints: bool = True,
    names: Iterable[str] = (),
) -> ReplayResult:
    """Stream ``audio`` (16 kHz int16) frame by frame through classifier and detector.
    With ``far_end`` the liveness check speaks (a ``phrase_s`` phrase) and the rest of the
    call becomes what ``far_end`` says the other side did about it. ``voice_prints``: the
    voice-print cue, on as in the live analyzer. ``names``: what the company is called."""
    one_blas_thread()  # as the live analyzer runs, so the CPU measured is the live one's
    clf = FrameClassifier()
    det = CallStateDetector(settings, memory, shared_encoder() if voice_prints else None, names)
    if far_end is not None:
        det.probe_phrase_s = phrase_s
    said: list[float] = []
    if transcribe is None:
        det.stt_degraded = True
    decisions: list[Decision] = []
    labels: list[Label] = []
    phases: list[str] = []
    transcripts: list[Transcript] = []
    pending: list[tuple[float, int, SttRequest, str]] = []
    busy_until = 0.0
    frame_cpu = stt_cpu = 0.0
    n = len(audio) // FRAME
    seq = 0
    i = -1
    while i + 1 < n:
        i += 1
        t = i * FRAME / 16000
        t0 = time.process_time()
        pcm = audio[i * FRAME : (i + 1) * FRAME]
        info = clf.process(pcm, t)
        decisions += det.on_frame(info, pcm)
        frame_cpu += time.process_time() - t0
        labels.append(info.label)
        phases.append(det.phase)
        while det.say_requests:
            det.say_requests.popleft()
            said.append(t)
            if far_end is not None:
                rest = far_end((i + 1) * FRAME, phrase_s)
                if rest is not None:
                    audio = np.concatenate([audio[: (i + 1) * FRAME], rest])
                    n = len(audio) // FRAME
        while det.remembered:  # a replay's words, from memory: no STT needed
            req, text = det.remembered.popleft()
            transcripts.append(Transcript(req.start, req.end, text, True, t))
        while det.stt_requests:
            req = det.stt_requests.popleft()
            if transcribe is None:
                continue
            if not req.final and busy_until > t + 0.5:
                continue  # worker busy: a live call would skip this partial too
            try:
                text, took = transcribe(req.audio, req.final)
            except SttError:
                det.stt_degraded = True
                continue
            stt_cpu += took
            busy_until = max(busy_until, t) + took
            seq += 1
            heapq.heappush(pending, (busy_until, seq, req, text))
        while pending and pending[0][0] <= t:
            ready, _, req, text = heapq.heappop(pending)
            transcripts.append(Transcript(req.start, req.end, text, req.final, ready))
            decisions += det.on_transcript(req, text, t)
        if stop_after_human_s is not None and det.human_at is not None:
            if t - det.human_at >= stop_after_human_s:
                n = i + 1
                break
    det.flush()
    return ReplayResult(
        decisions, labels, phases, transcripts, frame_cpu, stt_cpu, n * FRAME / 16000, said,
        det.turns(),
    )
