"""The analyzer as the engine uses it: frames in on one thread, events out on the bus."""

import threading
import time

import numpy as np

from engine.audio.analyzer import CallAudioAnalyzer
from engine.events import EventBus, EventType
from engine.speech.stt import SttError
from engine.speech.tts import synthesize

from .conftest import silence


class ScriptedStt:
    """Stands in for a backend: answers from a script, optionally slowly or not at all."""

    name = "scripted"

    def __init__(self, text: str = "", delay: float = 0.0, fail: bool = False) -> None:
        self.text, self.delay, self.fail = text, delay, fail
        self.calls = 0

    def transcribe(self, audio, sample_rate=16000):
        self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise SttError("backend down")
        return self.text


def _feed(an: CallAudioAnalyzer, audio: np.ndarray, realtime: bool = False) -> list[float]:
    costs = []
    t0 = time.monotonic()
    for i in range(len(audio) // 320):
        a = time.perf_counter()
        an.feed(audio[i * 320 : (i + 1) * 320], 1000.0 + i * 0.02)
        costs.append(time.perf_counter() - a)
        if realtime:
            ahead = t0 + (i + 1) * 0.02 - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    return costs


def test_levels_and_labels_stream_at_25_hz(music, line):
    bus = EventBus()
    sub = bus.subscribe_queue(types=[EventType.AUDIO_LEVEL])
    an = CallAudioAnalyzer(bus, "c1", stt=ScriptedStt())
    _feed(an, line(music[: 16000 * 4]))
    an.close()
    levels = sub.drain()
    assert len(levels) == 100  # 4 s at 25 Hz
    assert all(e.call_id == "c1" for e in levels)
    assert -60 < levels[-1].data["rms_dbfs"] < 0 and levels[-1].data["peak_dbfs"] <= 0
    last_second = [e.data["label"] for e in levels[-25:]]
    assert last_second.count("music") > 20


def test_hold_then_person_reach_the_bus_with_transcript_and_evidence(music, line):
    bus = EventBus()
    sub = bus.subscribe_queue()
    stt = ScriptedStt("Hi, this is Dana, how can I help you?")
    an = CallAudioAnalyzer(bus, "c1", stt=stt)
    person = synthesize("Hi, this is Dana, how can I help you?")
    audio = line(np.concatenate([music[: 16000 * 12], silence(0.5), person, silence(3)]))
    _feed(an, audio, realtime=False)
    for _ in range(100):  # let the STT worker catch up, as a live call's clock would
        _feed(an, silence(0.1))
        if an.human is not None:
            break
    an.close()
    events = sub.drain()
    kinds = [e.type for e in events if e.type != EventType.AUDIO_LEVEL]
    assert kinds.index(EventType.HOLD_DETECTED) < kinds.index(EventType.HUMAN_DETECTED)
    human = next(e for e in events if e.type == EventType.HUMAN_DETECTED)
    assert human.data["confidence"] >= 0.8 and human.data["evidence"]["rule"]
    chunk = next(e for e in events if e.type == EventType.TRANSCRIPT_CHUNK)
    assert chunk.data["speaker"] == "remote" and "Dana" in chunk.data["text"]
    assert chunk.data["end"] > chunk.data["start"] >= 12.0


def test_queue_announcement_is_parsed_into_the_transcript_event(music, line, prompts):
    bus = EventBus()
    sub = bus.subscribe_queue(types=[EventType.TRANSCRIPT_CHUNK])
    stt = ScriptedStt("You are caller number 4. To receive a call back, press 1.")
    an = CallAudioAnalyzer(bus, "c1", stt=stt)
    _feed(an, line(np.concatenate([music[: 16000 * 8], prompts("queue-periodic-announce"),
                                   music[: 16000 * 3]])))  # fmt: skip
    an.close()
    chunk = sub.get(timeout=5)
    assert chunk is not None
    assert chunk.data["queue"] == {"position": 4, "callback_offer": True, "callback_key": "1"}


def test_slow_stt_never_slows_the_audio_path(music, line, prompts):
    bus = EventBus()
    stt = ScriptedStt("hello", delay=2.0)
    an = CallAudioAnalyzer(bus, "c1", stt=stt)
    audio = line(np.concatenate([prompts("queue-periodic-announce"), music[: 16000 * 2]]))
    costs = _feed(an, audio)
    an.close(timeout=0.1)
    assert stt.calls >= 1  # it was asked, and was slow...
    assert max(costs) < 0.05  # ...but no frame waited for it
    assert sum(costs) / len(costs) < 0.003


def test_a_backend_that_falls_behind_works_on_the_newest_words(music, line):
    """While the backend is stuck on one look at a turn, the turn goes on: the next look it
    takes is at all the words so far, not at one of the stale looks queued meanwhile."""
    gate = threading.Event()
    heard: list[float] = []

    class StuckStt(ScriptedStt):
        def transcribe(self, audio, sample_rate=16000):
            heard.append(len(audio) / 16000)
            gate.wait(10)
            return super().transcribe(audio)

    an = CallAudioAnalyzer(EventBus(), "c1", stt=StuckStt("He was not an ill disposed young man."))
    person = synthesize("He was not an ill disposed young man, only rather cold hearted.")
    _feed(an, line(np.concatenate([music[: 16000 * 12], silence(0.5), person])))
    time.sleep(0.2)  # the worker is stuck on the turn's first look
    asked = len(heard)
    gate.set()
    _feed(an, silence(0.3))
    deadline = time.monotonic() + 5
    while len(heard) < asked + 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    an.close()
    assert asked >= 1 and len(heard) > asked
    # the look right after the stuck one covers the whole turn, up to the newest frame
    assert heard[asked] >= len(person) / 16000 - 0.1, heard


def test_failing_stt_is_announced_once_and_the_call_goes_on(music, line, prompts):
    bus = EventBus()
    sub = bus.subscribe_queue(types=[EventType.ENGINE_ERROR, EventType.HOLD_DETECTED])
    an = CallAudioAnalyzer(bus, "c1", stt=ScriptedStt(fail=True))
    two = np.concatenate([prompts("queue-thankyou"), music[: 16000 * 7]] * 2)
    _feed(an, line(two))
    an.close()
    events = sub.drain()
    errors = [e for e in events if e.type == EventType.ENGINE_ERROR]
    assert len(errors) == 1 and errors[0].data["component"] == "stt"
    assert "acoustics only" in errors[0].data["degraded"]
    assert any(e.type == EventType.HOLD_DETECTED for e in events)


def test_close_stops_the_worker_thread(music):
    """Only the analyzer's own threads count: an earlier test's thread may end meanwhile
    (a count of all threads once read 1 where 2 were before)."""
    before = set(threading.enumerate())
    an = CallAudioAnalyzer(EventBus(), "c1", stt=ScriptedStt())
    started = set(threading.enumerate()) - before
    assert any(t.name == "stt-c1" for t in started)
    an.close()
    assert [t.name for t in started if t.is_alive()] == []


def test_the_words_heard_as_the_company_hangs_up_are_transcribed(line):
    """A self-service line reads the balance asked for and hangs up mid-turn: the user must
    still see it in the transcript (it was lost: only finished turns went to STT)."""
    bus = EventBus()
    sub = bus.subscribe_queue(types=[EventType.TRANSCRIPT_CHUNK])
    an = CallAudioAnalyzer(bus, "c1")  # the offline Whisper
    said = synthesize("Your available balance is one thousand, two hundred and four dollars.")
    _feed(an, line(np.concatenate([silence(0.5), said])))  # the call ends as the words do
    assert sub.drain() == []
    an.close()
    chunks = sub.drain()
    assert len(chunks) == 1, chunks
    text = chunks[0].data["text"].lower()
    assert "balance" in text and ("1,204" in text or "two hundred" in text), text
    assert len(an.memory) == 0, "a turn cut off by the hang-up is no recording to keep"


def test_words_that_come_in_after_the_call_ended_raise_no_alarm(music, line):
    """History would call the call a success, and the app alert, for a person who was
    only heard once the call was over."""
    bus = EventBus()
    sub = bus.subscribe_queue(types=[EventType.TRANSCRIPT_CHUNK, EventType.HUMAN_DETECTED])
    an = CallAudioAnalyzer(bus, "c1", stt=ScriptedStt("Hi, this is Dana, how can I help you?",
                                                      delay=0.5))
    person = synthesize("Hi, this is Dana, how can I help you?")
    _feed(an, line(np.concatenate([music[: 16000 * 12], silence(0.5), person])))
    an.close()
    events = sub.drain()
    assert [e.type for e in events if e.type == EventType.HUMAN_DETECTED] == []
    assert "Dana" in events[-1].data["text"]
