"""One call's ears: turns the far end's 20 ms frames into bus events (levels, sound class,
hold, live person, transcripts, queue announcements).

Why it is split this way: ``feed`` runs on the engine's audio worker thread 50 times a second
and must stay cheap (≈0.2 ms: levels, two voice detectors, an FFT), so speech-to-text runs on
this analyzer's own worker thread. The detector itself is touched only from ``feed``; the STT
worker hands results back through a queue that ``feed`` drains. A failing or slow STT backend
degrades the call to acoustics only (announced once as ENGINE_ERROR) and never blocks audio.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from engine.audio import transcript_cues
from engine.audio.announcement_memory import AnnouncementMemory
from engine.audio.blas import one_blas_thread
from engine.audio.call_state import CallStateDetector, Decision, DetectorSettings, SttRequest
from engine.audio.frame_classifier import ClassifierSettings, FrameClassifier, Label
from engine.audio.voice_print import VoiceEncoder, shared_encoder
from engine.events import EventBus, EventType
from engine.speech.stt import SpeechToText, SttError, WhisperSTT, transcribe_partial

log = logging.getLogger(__name__)

_shared_stt: SpeechToText | None = None
_shared_lock = threading.Lock()
# queued in place of a partial: the worker then takes the newest one from the slot
_TAKE_PARTIAL = SttRequest(-1, np.zeros(0, np.int16), 0.0, 0.0, False)


def shared_stt() -> SpeechToText:
    """The offline Whisper, loaded once per process and shared by every call."""
    global _shared_stt
    with _shared_lock:
        if _shared_stt is None:
            _shared_stt = WhisperSTT()
        return _shared_stt


def warm_up(settings: AnalyzerSettings | None = None) -> None:
    """Load now, once per process, every model a call's ears use (silero, the voice prints,
    Whisper and its tokenizer, the first names); safe to call again and from any thread.

    Why before a call, not at its first words: each load holds the GIL for 0.1-0.3 s
    (WhisperModel 130-150 ms, Faker's name modules about 100 ms, longer on a busy machine),
    and the media clock's Python ports need the GIL every 20 ms. A load during a call left
    that call's outgoing audio with a hole: an in-band key sent then reached the company
    bent or cut in two (``bench/media_clock.py`` shows the gaps)."""
    s = settings or AnalyzerSettings()
    one_blas_thread()
    FrameClassifier(s.classifier)
    _voice_encoder(s)
    if s.stt_enabled:
        stt = shared_stt()
        if isinstance(stt, WhisperSTT):
            stt.warm_up()
        transcript_cues.first_names()


def _voice_encoder(settings: AnalyzerSettings) -> VoiceEncoder | None:
    """The shared voice-print model, or None (words and turn-taking still work without)."""
    if not settings.voice_prints:
        return None
    try:
        return shared_encoder()
    except (OSError, ValueError, KeyError) as exc:
        log.warning("no voice prints (%s): listening by words and turn-taking", exc)
        return None


@dataclasses.dataclass(slots=True)
class AnalyzerSettings:
    level_every_frames: int = 2  # AUDIO_LEVEL at 25 Hz
    stt_enabled: bool = True
    stt_queue: int = 4  # looks at a long turn's end beyond this are dropped, finals never
    voice_prints: bool = True  # tell a new voice from the line's recorded ones
    classifier: ClassifierSettings = dataclasses.field(default_factory=ClassifierSettings)
    detector: DetectorSettings = dataclasses.field(default_factory=DetectorSettings)


class CallAudioAnalyzer:
    """Feed it every far-end frame (320 int16 samples, 16 kHz) with a monotonic timestamp.

    Publishes AUDIO_LEVEL {rms_dbfs, peak_dbfs, label, speech_prob}, HOLD_DETECTED and
    HUMAN_DETECTED {evidence, confidence} (once each), TRANSCRIPT_CHUNK {text, start, end,
    speaker, final, repeat, [queue]} and ENGINE_ERROR {component: "stt"} on STT failure.
    ``memory`` carries the company's announcements from earlier calls (see
    :class:`AnnouncementMemory`); read it back from ``analyzer.memory`` after the call.
    ``names``: what the company is called ("Acme Bank"), so its recordings' "This is Acme
    Bank" is not taken for a person introducing themselves.

    ``say(text)`` plays ``engine.speech.tts.cached_phrase(text)`` into the call, starting
    now and without blocking (the liveness check times the far end's reaction from the
    call); without it no check is made. The analyzer makes that phrase first, on its own
    thread, and checks only once it exists.
    """

    def __init__(
        self,
        bus: EventBus,
        call_id: str,
        settings: AnalyzerSettings | None = None,
        stt: SpeechToText | None = None,
        memory: AnnouncementMemory | list[dict[str, Any]] | None = None,
        say: Callable[[str], object] | None = None,
        names: Iterable[str] = (),
    ) -> None:
        self.bus = bus
        self.call_id = call_id
        self.s = settings or AnalyzerSettings()
        one_blas_thread()
        if not isinstance(memory, AnnouncementMemory):
            memory = AnnouncementMemory(known=memory)
        self.memory = memory
        self._clf = FrameClassifier(self.s.classifier)
        self._det = CallStateDetector(self.s.detector, memory, _voice_encoder(self.s), names)
        self._stt = stt if stt is not None else (shared_stt() if self.s.stt_enabled else None)
        if self._stt is None:
            self._det.stt_degraded = True
        else:
            transcript_cues.load_first_names_soon()
        self._t0: float | None = None
        self._frames = 0
        self._last_t = 0.0
        self._requests: queue.Queue[SttRequest | None] = queue.Queue()
        self._results: queue.Queue[tuple[SttRequest, str | None, str]] = queue.Queue()
        # one slot for the newest partial: one still waiting when a newer comes covers fewer
        # words and is dropped, so a slow backend always works on the freshest audio
        self._partial: SttRequest | None = None
        self._partial_lock = threading.Lock()
        self._stt_failed = False
        self._closed = False
        self.label = Label.SILENCE
        self.hold: Decision | None = None
        self.human: Decision | None = None
        self._say = say
        if say is not None:
            threading.Thread(target=self._prepare_phrase, name=f"tts-{call_id}",
                             daemon=True).start()  # fmt: skip
        self._worker: threading.Thread | None = None
        if self._stt is not None:
            self._worker = threading.Thread(
                target=self._stt_loop, name=f"stt-{call_id}", daemon=True
            )
            self._worker.start()

    # -- audio thread ----------------------------------------------------------------------

    def feed(self, frame: np.ndarray, t: float) -> None:
        """Analyse one 20 ms frame; never blocks on speech-to-text."""
        if self._closed:
            return
        if self._t0 is None:
            self._t0 = t
        rel = t - self._t0
        self._last_t = rel
        info = self._clf.process(frame, rel)
        self.label = info.label
        self._frames += 1
        if self._frames % self.s.level_every_frames == 0:
            self.bus.emit(
                EventType.AUDIO_LEVEL,
                self.call_id,
                rms_dbfs=info.rms_dbfs,
                peak_dbfs=info.peak_dbfs,
                label=info.label.value,
                speech_prob=round(info.speech_prob, 3),
                t=round(rel, 3),
            )
        pcm = frame if frame.dtype == np.int16 else np.asarray(frame, dtype=np.int16)
        self._publish(self._det.on_frame(info, pcm))
        self._speak()
        self._publish_remembered()
        self._dispatch_requests()
        self._drain_results()

    def _prepare_phrase(self) -> None:
        from engine.speech.tts import TtsError, cached_phrase

        text = self._det.s.liveness.phrase
        try:
            pcm = cached_phrase(text)
        except (TtsError, OSError, ImportError) as exc:
            log.warning("no liveness check on call %s: cannot synthesise %r: %s",
                        self.call_id, text, exc)  # fmt: skip
            return
        self._det.probe_phrase_s = len(pcm) / 16000  # a float store: safe across threads

    def _speak(self) -> None:
        while self._det.say_requests:
            text = self._det.say_requests.popleft()
            try:
                if self._say is not None:
                    self._say(text)
            except Exception:  # a broken hook must not stop the listening
                log.exception("liveness phrase could not be played; checks stop")
                self._det.cancel_probe("could not speak into the call")

    def _publish_remembered(self) -> None:
        while self._det.remembered:
            self._publish_transcript(*self._det.remembered.popleft())

    def _dispatch_requests(self) -> None:
        while self._det.stt_requests:
            req = self._det.stt_requests.popleft()
            if self._stt is None:
                continue
            if not req.final and not req.window:
                with self._partial_lock:
                    waiting, self._partial = self._partial is not None, req
                if not waiting:
                    self._requests.put(_TAKE_PARTIAL)
                continue
            if not req.final and self._requests.qsize() >= self.s.stt_queue:
                continue  # backlog: skip this look at the turn's end, the next supersedes it
            self._requests.put(req)

    def _drain_results(self, decide: bool = True) -> None:
        while True:
            try:
                req, text, error = self._results.get_nowait()
            except queue.Empty:
                return
            if text is None:
                self._on_stt_error(error)
                continue
            if self._stt_failed:
                self._stt_failed = False
                self._det.stt_degraded = False
            decisions = self._det.on_transcript(req, text, self._last_t)
            if decide:
                self._publish(decisions)
            if req.final and text:
                self._publish_transcript(req, text)

    def _publish_transcript(self, req: SttRequest, text: str) -> None:
        data: dict[str, Any] = {
            "text": text,
            "start": round(req.start, 3),
            "end": round(req.end, 3),
            "speaker": "remote",
            "final": True,
        }
        ep = self._det._find(req.episode)
        if ep is not None:
            data["repeat"] = ep.repeat is not None
            if ep.cues is not None:
                data["cues"] = ep.cues.to_dict()
        q = transcript_cues.parse_queue(text)
        if q:
            data["queue"] = q
        self.bus.emit(EventType.TRANSCRIPT_CHUNK, self.call_id, **data)
        if q and not data.get("repeat"):
            if q.get("position") is not None or q.get("wait_minutes") is not None:
                self.bus.emit(
                    EventType.QUEUE_POSITION,
                    self.call_id,
                    position=q.get("position"),
                    wait_minutes=q.get("wait_minutes"),
                    text=text,
                )
            if q.get("callback_offer"):
                self.bus.emit(
                    EventType.CALLBACK_OFFER, self.call_id, key=q.get("callback_key"), text=text
                )

    def _on_stt_error(self, error: str) -> None:
        if not self._stt_failed:
            self._stt_failed = True
            self._det.stt_degraded = True
            self.bus.emit(
                EventType.ENGINE_ERROR,
                self.call_id,
                component="stt",
                message=error,
                degraded="listening by acoustics only until speech-to-text recovers",
            )

    def _publish(self, decisions: list[Decision]) -> None:
        for d in decisions:
            if d.kind == "hold":
                self.hold = d
                etype = EventType.HOLD_DETECTED
            else:
                self.human = d
                etype = EventType.HUMAN_DETECTED
            self.bus.emit(etype, self.call_id, evidence=d.evidence, confidence=d.confidence,
                          t=round(d.t, 3))  # fmt: skip

    # -- STT worker ------------------------------------------------------------------------

    def _stt_loop(self) -> None:
        assert self._stt is not None
        while True:
            req = self._requests.get()
            if req is None:
                return
            if req is _TAKE_PARTIAL:
                with self._partial_lock:
                    req, self._partial = self._partial, None
                if req is None:
                    continue
            t0 = time.monotonic()
            try:
                if req.final:
                    text = self._stt.transcribe(req.audio)
                else:
                    text = transcribe_partial(self._stt, req.audio)
            except SttError as exc:
                self._results.put((req, None, str(exc)))
                continue
            except Exception as exc:  # a backend bug must not kill the worker
                log.exception("speech-to-text crashed")
                self._results.put((req, None, f"{type(exc).__name__}: {exc}"))
                continue
            log.debug("stt %.2fs for %.1fs audio", time.monotonic() - t0, len(req.audio) / 16000)
            self._results.put((req, text, ""))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the STT worker (finishing the request in hand) and publish what is done."""
        if self._closed:
            return
        self._closed = True
        self._det.end_turn()  # the words heard as the call ended are transcribed too
        self._publish_remembered()
        self._dispatch_requests()
        if self._worker is not None:
            # finals still queued are worth finishing; partials are not
            pending: list[SttRequest] = []
            while True:
                try:
                    r = self._requests.get_nowait()
                except queue.Empty:
                    break
                if r is not None and r.final:
                    pending.append(r)
            for r in pending:
                self._requests.put(r)
            self._requests.put(None)
            self._worker.join(timeout)
        self._drain_results(decide=False)  # a decision now would come after the call ended
        self._det.flush()
