"""How soon the words themselves allow a decision: the benchmark's yardstick for latency.

Why: the detector declares a person on words a recording does not say ("this is Dana", "how
can I help") or on turn-taking (the voice stops and waits). However fast the rest, it cannot
beat the moment those words have been spoken. This finds that moment in each call's person,
from Whisper's word timings on the person's audio, with the detector's own cue rules given
every advantage (instant transcripts, a voice always known to be new). The latency above it
is what the pipeline adds; the floor itself is what the cue vocabulary costs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import MutableMapping

import numpy as np

from engine.audio import transcript_cues
from engine.audio.call_state import DetectorSettings
from engine.audio.corpus import CorpusCall

Word = tuple[str, float, float]  # (word as Whisper wrote it, start s, end s)


@dataclasses.dataclass(slots=True)
class Floor:
    t: float  # seconds from the person's first word (the corpus's onset)
    why: str  # the rule the words allow, and the words up to there


def person_audio(call: CorpusCall) -> tuple[np.ndarray, float]:
    """The person's span of the call as the line delivered it, and its start (s)."""
    span = next(s for s in call.spans if s.cls == "human")
    a, b = int(span.start * 16000), int(span.end * 16000)
    return call.audio[a:b], span.start


def word_times(audio: np.ndarray, cache: MutableMapping[str, list]) -> list[Word]:
    """Whisper's words with their times (the embedded tiny.en), cached by the audio's hash."""
    key = "words:" + hashlib.sha1(audio.tobytes()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return [tuple(w) for w in hit[0]]  # type: ignore[misc]
    from engine.speech.stt import WhisperSTT

    model = WhisperSTT()._load()
    segments, _ = model.transcribe(
        audio.astype(np.float32) / 32768.0, language="en", beam_size=1, word_timestamps=True,
        condition_on_previous_text=False, vad_filter=False,
    )  # fmt: skip
    words = [(w.word, round(w.start, 3), round(w.end, 3)) for s in segments for w in s.words or []]
    cache[key] = [words, 0.0]
    return words


def floor(words: list[Word], offset: float, s: DetectorSettings, on_hold: bool = True
          ) -> Floor | None:  # fmt: skip
    """The earliest word end (``offset``: where the words' clock stands against the onset)
    after which a rule of the detector holds on the words so far; else the turn's end plus
    the wait that turn-taking needs. Before hold (``on_hold`` False) a person's words count
    only once ``start_phase_confirm_s`` more have been heard, or the turn is over, and a new
    voice's opening does not count: there bots introduce themselves like people."""
    if not words:
        return None
    end = words[-1][2] + offset
    for k in range(1, len(words) + 1):
        text = "".join(w for w, _, _ in words[:k]).strip()
        cues = transcript_cues.score(text)
        t = words[k - 1][2] + offset
        if s.person_words(cues):
            if not on_hold:
                t = min(t + s.start_phase_confirm_s, end + s.speech_end_s)
            return Floor(t, f"words of a person: {text!r}")
        if on_hold and cues.recorded == 0 and transcript_cues.opens_like_a_person(text):
            return Floor(t, f"a new voice's opening: {text!r}")
    text = "".join(w for w, _, _ in words).strip()
    wait = s.turn_wait(transcript_cues.score(text).human, transcript_cues.calls_out(text))
    return Floor(end + s.speech_end_s + wait, f"spoke, then waited: {text!r}")


def call_floor(call: CorpusCall, cache: MutableMapping[str, list], s: DetectorSettings
               ) -> Floor | None:  # fmt: skip
    """The floor of ``call``'s person (None: no person, or Whisper heard no words)."""
    if call.human_onset is None:
        return None
    audio, start = person_audio(call)
    return floor(
        word_times(audio, cache), start - call.human_onset, s, on_hold=call.hold_start is not None
    )
