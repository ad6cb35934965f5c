"""One analysis thread for every live call: each call is heard on its own audio, a call whose
analysis breaks does not deafen the others, and a call's end runs its finish (the last
words, the saved memory) without holding up the calls still live."""

import threading
import time

import numpy as np

from engine.audio.analysis_loop import AnalysisLoop
from engine.audio.analyzer import AnalyzerSettings, CallAudioAnalyzer
from engine.events import EventBus, EventType
from engine.sip.audio_tap import AudioTap

from .conftest import silence

QUIET = AnalyzerSettings(stt_enabled=False, voice_prints=False)


def _push(tap: AudioTap, audio: np.ndarray) -> None:
    for i in range(0, len(audio) - 319, 320):
        tap.push(audio[i : i + 320].tobytes())


class _Broken(CallAudioAnalyzer):
    """An analysis that fails part-way, as a bug in it would."""

    def feed(self, frame: np.ndarray, t: float) -> None:
        if self._frames >= 50:
            raise RuntimeError("analysis bug")
        super().feed(frame, t)


def test_each_call_is_heard_on_its_own_audio_and_a_broken_one_stops_alone(music):
    bus = EventBus()
    events = bus.subscribe_queue(types=[EventType.HOLD_DETECTED, EventType.AUDIO_LEVEL])
    loop = AnalysisLoop()
    taps = {c: AudioTap(c, "remote") for c in ("on-hold", "quiet", "broken")}
    analyzers = {
        "on-hold": CallAudioAnalyzer(bus, "on-hold", QUIET),
        "quiet": CallAudioAnalyzer(bus, "quiet", QUIET),
        "broken": _Broken(bus, "broken", QUIET),
    }
    finished: dict[str, threading.Event] = {c: threading.Event() for c in taps}
    for c, tap in taps.items():
        loop.add(c, analyzers[c], tap.subscribe(maxframes=1500), finished[c].set)
    _push(taps["broken"], music[: 16000 * 2])
    _push(taps["on-hold"], music[: 16000 * 12])
    _push(taps["quiet"], silence(12))
    assert finished["broken"].wait(5)  # dropped, and its finish still ran
    deadline = time.monotonic() + 10
    while analyzers["on-hold"].hold is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert analyzers["on-hold"].hold is not None  # the broken call did not stop the others
    assert analyzers["quiet"].hold is None  # nor did one call's music reach another
    got = events.drain()
    assert {e.call_id for e in got if e.type == EventType.HOLD_DETECTED} == {"on-hold"}
    levels = {c: [e.data["rms_dbfs"] for e in got
                  if e.type == EventType.AUDIO_LEVEL and e.call_id == c] for c in taps}  # fmt: skip
    assert len(levels["broken"]) < 30  # it stopped at its 50th frame
    assert max(levels["quiet"]) < -80 < min(levels["on-hold"][25:])
    assert sorted(loop.calls()) == ["on-hold", "quiet"]
    for tap in taps.values():
        tap.close()
    assert all(e.wait(5) for e in finished.values())
    deadline = time.monotonic() + 2
    while loop.calls() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loop.calls() == []


def test_a_finish_that_waits_holds_up_no_other_call(music):
    """A call's finish waits for its last words (up to seconds); the calls still live must
    be heard meanwhile."""
    bus = EventBus()
    loop = AnalysisLoop()
    ending, live = AudioTap("ending", "remote"), AudioTap("live", "remote")
    release = threading.Event()
    live_analyzer = CallAudioAnalyzer(bus, "live", QUIET)
    loop.add("ending", CallAudioAnalyzer(bus, "ending", QUIET), ending.subscribe(),
             lambda: release.wait(10))  # fmt: skip
    loop.add("live", live_analyzer, live.subscribe(maxframes=1500), lambda: None)
    ending.close()
    time.sleep(0.2)  # its finish is now waiting
    _push(live, music[: 16000 * 10])
    deadline = time.monotonic() + 8
    while live_analyzer.hold is None and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    assert live_analyzer.hold is not None
    live.close()


class _EndsBetweenReads:
    """A call's frames where the call's last audio and its end land just after a wake found
    nothing waiting: the race between taking the frames and asking whether they ended."""

    def __init__(self, tap: AudioTap, last: np.ndarray) -> None:
        self._tap, self._sub, self._last = tap, tap.subscribe(maxframes=1500), last

    @property
    def closed(self) -> bool:
        return self._sub.closed

    def get_all(self, timeout: float | None = None) -> list:
        frames = self._sub.get_all(timeout)
        if not frames and self._last is not None:
            _push(self._tap, self._last)
            self._tap.close()
            self._last = None
        return frames


def test_the_last_audio_of_a_call_that_ends_between_two_reads_is_still_heard(music):
    bus = EventBus()
    analyzer = CallAudioAnalyzer(bus, "ending", QUIET)
    done = threading.Event()
    loop = AnalysisLoop()
    loop.add("ending", analyzer, _EndsBetweenReads(AudioTap("ending", "remote"),
                                                   music[: 16000 * 10]), done.set)  # fmt: skip
    assert done.wait(5)
    assert analyzer.hold is not None  # its last 10 s of music were analysed, not dropped
