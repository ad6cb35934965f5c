"""Recording: the right files in the right place, a length limit, and a WAV that survives
``kill -9`` of the recording process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from engine.events import EventBus, EventType
from engine.recording import RecordingError, RecordingService
from engine.sip.audio_tap import AudioTap
from engine.wavio import read_wav


class Taps:
    """The two taps of one call, fed like the media clock feeds them (50 frames a second)."""

    def __init__(self, call_id: str) -> None:
        self.remote = AudioTap(call_id, "remote")
        self.local = AudioTap(call_id, "local")

    def tap(self, call_id: str, direction: str = "remote") -> AudioTap:
        return self.remote if direction == "remote" else self.local

    def feed(self, seconds: float, remote_hz: float = 440, local_hz: float = 0,
             realtime: bool = False) -> None:
        n = int(seconds * 50)
        for i in range(n):
            t = (np.arange(320) + 320 * i) / 16000
            r = (8000 * np.sin(2 * np.pi * remote_hz * t)).astype(np.int16)
            lo = (4000 * np.sin(2 * np.pi * local_hz * t)).astype(np.int16) if local_hz \
                else np.zeros(320, np.int16)
            self.remote.push(r.tobytes())
            self.local.push(lo.tobytes())
            if realtime:
                time.sleep(0.02)


def test_files_layout_lengths_and_mix(tmp_path: Path) -> None:
    taps, bus = Taps("c1"), EventBus()
    events = bus.subscribe_queue(types=[EventType.RECORDING_STOPPED])
    svc = RecordingService(taps, bus, tmp_path / "recordings")
    paths = svc.start_recording("c1")
    day = time.strftime("%Y/%m/%d")
    assert paths["outbound"] == str(tmp_path / "recordings" / day / "call_c1_outbound.wav")
    taps.feed(3.0, remote_hz=440, local_hz=1000)
    time.sleep(0.3)
    result = svc.stop_recording("c1")
    assert result["path"].endswith("call_c1_mixed.wav")
    assert abs(result["duration"] - 3.0) < 0.05
    assert result["file_size"] == 44 + 2 * 16000 * 3
    out = read_wav(result["files"]["outbound"]["path"]).astype(float)
    inb = read_wav(result["files"]["inbound"]["path"]).astype(float)
    mixed = read_wav(result["files"]["mixed"]["path"]).astype(float)

    def peak_hz(x: np.ndarray, n: int = 1) -> list[float]:
        spec = np.abs(np.fft.rfft(x))
        return sorted(float(f) * 16000 / x.size for f in np.argsort(spec)[-n:])

    assert abs(peak_hz(out)[0] - 440) < 5 and abs(peak_hz(inb)[0] - 1000) < 5
    low, high = peak_hz(mixed, 2)
    assert abs(low - 440) < 5 and abs(high - 1000) < 5  # both sides are in the mix
    with wave.open(result["path"]) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
    assert {events.get(1).data["kind"] for _ in range(3)} == {"outbound", "inbound", "mixed"}
    assert svc.get_recordings("c1")[0]["path"] == result["path"]
    with pytest.raises(RecordingError, match="not being recorded"):
        svc.stop_recording("nope")


def test_stops_by_itself_at_the_length_limit(tmp_path: Path) -> None:
    taps, bus = Taps("c2"), EventBus()
    events = bus.subscribe_queue(types=[EventType.RECORDING_STOPPED])
    svc = RecordingService(taps, bus, tmp_path, max_recording_seconds=1.0)
    svc.start_recording("c2", kinds=("outbound",))
    taps.feed(2.5)
    ev = events.get(timeout=5)
    assert ev is not None and "max_recording_seconds" in ev.data["reason"]
    assert abs(ev.data["duration"] - 1.0) < 0.05


def test_stops_when_the_call_ends(tmp_path: Path) -> None:
    taps, bus = Taps("c3"), EventBus()
    svc = RecordingService(taps, bus, tmp_path)
    svc.start_recording("c3")
    taps.feed(1.0)
    taps.remote.close()
    taps.local.close()
    deadline = time.monotonic() + 5
    while not svc.get_recordings("c3") and time.monotonic() < deadline:
        time.sleep(0.05)
    rec = svc.get_recordings("c3")[0]
    assert rec["reason"] == "call ended" and abs(rec["duration"] - 1.0) < 0.05


def test_a_recording_cut_by_kill_9_is_still_a_readable_wav(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_recording import Taps
        from engine.events import EventBus
        from engine.recording import RecordingService
        taps = Taps("k")
        svc = RecordingService(taps, EventBus(), {str(tmp_path)!r})
        svc.start_recording("k", kinds=("outbound",))
        print("recording", flush=True)
        taps.feed(60, realtime=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "recording"
    time.sleep(3.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(5)
    path = next(tmp_path.rglob("call_k_outbound.wav"))
    with wave.open(str(path)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 1.9 <= seconds <= 3.6  # everything up to the last once-a-second flush
    assert np.abs(read_wav(path)).max() > 5000


def test_taps_never_block_the_media_thread_on_a_slow_reader() -> None:
    tap = AudioTap("s", "remote")
    slow = tap.subscribe(maxframes=10)  # a reader that never reads
    fast_frames: list[int] = []
    fast = tap.subscribe(maxframes=5000)
    reader = threading.Thread(target=lambda: [fast_frames.append(f.index) for f in
                                              iter(lambda: fast.get(timeout=1), None)])
    reader.start()
    t0 = time.perf_counter()
    for _ in range(2000):
        tap.push(bytes(640))
    assert time.perf_counter() - t0 < 1.0
    tap.close()
    reader.join(5)
    assert fast_frames == list(range(2000))
    assert slow.dropped == 1990


def test_a_batch_reader_gets_every_frame_in_order_and_then_the_end() -> None:
    """The analysis thread takes what gathered while it slept: nothing lost or reordered."""
    tap = AudioTap("s", "remote")
    sub = tap.subscribe(maxframes=5000)
    got: list[int] = []
    batches: list[int] = []

    def read() -> None:
        while (frames := sub.get_all(timeout=1.0)) or not sub.closed:
            got.extend(f.index for f in frames)
            if frames:
                batches.append(len(frames))
                time.sleep(0.01)

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(300):
        tap.push(bytes(640))
        time.sleep(0.001)
    tap.close()
    reader.join(5)
    assert not reader.is_alive()
    assert got == list(range(300))
    assert max(batches) > 1  # frames that came during a sleep came in one wake
    assert sub.get_all(timeout=0.1) == []
