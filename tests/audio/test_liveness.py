"""The liveness check as a user meets it: while an unknown voice talks during hold, Hold
Slayer says "Hi, one moment please"; a person who stops for it is announced sooner, and a
recording that plays on over it is never taken for a person."""

from __future__ import annotations

import time

import numpy as np

from engine.audio.analyzer import CallAudioAnalyzer
from engine.audio.frame_classifier import Label
from engine.audio.liveness import PHRASE, LivenessProbe, LivenessSettings
from engine.audio.replay import replay
from engine.events import EventBus, EventType

from .conftest import silence


def _labels(probe: LivenessProbe, spans: list[tuple[float, Label]]) -> str:
    t = probe.said_at
    for seconds, label in spans:
        for _ in range(round(seconds / 0.02)):
            t += 0.02
            probe.update(t, label)
    return probe.verdict


def _probe() -> LivenessProbe:
    return LivenessProbe(said_at=10.0, phrase_s=1.4, s=LivenessSettings())


def test_a_voice_that_stops_for_us_and_stays_quiet_is_a_person():
    verdict = _labels(_probe(), [(0.5, Label.SPEECH), (1.1, Label.SILENCE)])
    assert verdict == "stopped"


def test_pauses_a_recording_makes_prove_nothing():
    # a sentence break (the longest inside a corpus recording is 0.46 s), then more words
    assert _labels(_probe(), [(0.4, Label.SPEECH), (0.5, Label.SILENCE), (2, Label.SPEECH)]) == (
        "kept talking over us"
    )
    # an announcement that ends as we speak and gives way to music
    assert _labels(_probe(), [(0.4, Label.SPEECH), (0.6, Label.SILENCE), (1, Label.MUSIC)]) == (
        "music or tones came back"
    )
    # already quiet before our voice could have reached it: not a reaction to us
    assert _labels(_probe(), [(0.1, Label.SPEECH), (3, Label.SILENCE)]) == (
        "no stop inside the reaction window"
    )


def test_a_word_onset_that_reads_as_music_for_a_moment_does_not_spoil_the_check():
    spans = [(0.3, Label.SPEECH), (0.1, Label.MUSIC), (0.2, Label.SPEECH), (1.1, Label.SILENCE)]
    assert _labels(_probe(), spans) == "stopped"


def _stt_without_cues(audio: np.ndarray, final: bool = True) -> tuple[str, float]:
    return "It was the best of times, it was the worst of times.", 0.0


def _stt_greeting(audio: np.ndarray, final: bool = True) -> tuple[str, float]:
    return "Hello, good morning.", 0.0  # a greeting, but not yet enough words to decide


def _call(music: np.ndarray, voice: np.ndarray, line) -> tuple[np.ndarray, float]:
    audio = line(np.concatenate([music[: 16000 * 10], silence(0.5), voice, silence(4)]))
    return audio, 10.5


def _yielding_person(audio: np.ndarray, onset: float):
    """A person who stops 0.5 s after we start speaking and waits quietly."""

    def react(start: int, phrase_s: float) -> np.ndarray | None:
        if start < onset * 16000:
            return None  # a recording ignores us
        return np.concatenate([audio[start : start + 8000], silence(6)])

    return react


def test_a_greeting_person_is_heard_sooner_when_they_stop_for_us(music, read_speech, line):
    voice = next(a for a, _ in read_speech if len(a) > 16000 * 6)
    audio, onset = _call(music, voice, line)
    plain = replay(audio, _stt_greeting)
    checked = replay(audio, _stt_greeting, far_end=_yielding_person(audio, onset))
    human = checked.first("human")
    assert human is not None and human.t > onset
    assert human.evidence["rule"] == "stopped talking when we spoke (liveness check)"
    assert human.evidence["liveness"]["verdict"] == "stopped"
    assert len(checked.said_at) == 1 and checked.said_at[0] < human.t
    before = plain.first("human")
    assert before is None or human.t < before.t - 1.0


def test_a_recording_that_plays_over_us_never_raises_the_alarm(music, read_speech, line):
    # a long unknown voice (no announcement words) that ignores the phrase: no alarm
    voice = np.concatenate([a for a, _ in read_speech[:3]])
    audio = line(np.concatenate([music[: 16000 * 10], silence(0.5), voice, music[: 16000 * 8]]))
    res = replay(audio, _stt_without_cues, far_end=lambda start, phrase_s: None)
    assert res.said_at, "the unknown voice was checked"
    assert res.first("human") is None


def test_the_analyzer_asks_the_runtime_to_speak_once_per_unknown_voice(music, read_speech, line):
    said: list[str] = []

    class Stt:
        name = "scripted"

        def transcribe(self, audio, sample_rate=16000):
            return "It was the best of times."

    bus = EventBus()
    an = CallAudioAnalyzer(bus, "c1", stt=Stt(), say=said.append)
    for _ in range(200):  # the phrase is synthesised on the analyzer's own thread first
        if an._det.probe_phrase_s:
            break
        time.sleep(0.05)
    voice = next(a for a, _ in read_speech if len(a) > 16000 * 6)
    audio = line(np.concatenate([music[: 16000 * 10], silence(0.5), voice]))
    for i in range(len(audio) // 320):
        an.feed(audio[i * 320 : (i + 1) * 320], i * 0.02)
        if i % 25 == 0:
            time.sleep(0.005)  # let the STT worker's partials land, as on a live call
    an.close()
    assert said == [PHRASE]


def test_a_phrase_that_cannot_be_played_proves_nothing(music, read_speech, line):
    def broken(text: str) -> None:
        raise RuntimeError("call gone")

    class Stt:
        name = "scripted"

        def transcribe(self, audio, sample_rate=16000):
            return "It was the best of times."

    bus = EventBus()
    sub = bus.subscribe_queue(types=[EventType.HUMAN_DETECTED])
    an = CallAudioAnalyzer(bus, "c1", stt=Stt(), say=broken)
    an._det.probe_phrase_s = 1.4
    voice = next(a for a, _ in read_speech if len(a) > 16000 * 6)
    # the voice stops half a second in, as a person would, but nothing was said to them
    audio = line(np.concatenate([music[: 16000 * 10], silence(0.5), voice[: 16000 * 2]]))
    for i in range(len(audio) // 320):
        an.feed(audio[i * 320 : (i + 1) * 320], i * 0.02)
        if i % 25 == 0:
            time.sleep(0.005)
    for i in range(60):  # 1.2 s of quiet: within the check's window, before turn-taking's
        an.feed(silence(0.02), len(audio) / 16000 + i * 0.02)
    an.close()
    assert all(
        e.data["evidence"]["rule"] != "stopped talking when we spoke (liveness check)"
        for e in sub.drain()
    )


def test_a_voice_with_no_word_of_a_person_is_not_confirmed_by_stopping_alone(
    music, read_speech, line
):
    # the benchmark's one false alarm: an announcement's garbled last words ("the legend will
    # be with you shortly") ended as we spoke, then soft music that reads as silence
    voice = next(a for a, _ in read_speech if len(a) > 16000 * 6)
    audio, onset = _call(music, voice, line)
    res = replay(audio, _stt_without_cues, far_end=_yielding_person(audio, onset))
    human = res.first("human")
    assert (
        human is None or human.evidence["rule"] != "stopped talking when we spoke (liveness check)"
    )


def test_a_recording_that_ends_as_we_speak_and_gives_way_to_music_is_no_person(music, line):
    def stt(audio: np.ndarray, final: bool = True) -> tuple[str, float]:
        return "Thank you for calling Blue Sky Airlines.", 0.0

    from engine.speech.tts import synthesize

    clip = synthesize("Thank you for calling Blue Sky Airlines.")
    audio = line(np.concatenate([music[: 16000 * 10], silence(0.3), clip, silence(0.9),
                                 music[16000 * 10 : 16000 * 20]]))  # fmt: skip
    res = replay(audio, stt, far_end=lambda start, phrase_s: None)
    assert res.first("human") is None
