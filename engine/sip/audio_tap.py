"""Fan-out of a call's 20 ms PCM frames from the pjsua2 media thread to any number of readers.

The media clock thread must never wait on us, so :meth:`AudioTap.push` only appends to each
subscriber's bounded deque (dropping that subscriber's oldest frame when it is full) and
signals it. Readers pull on their own threads.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time

import numpy as np

FRAME_SAMPLES = 320  # 20 ms at 16 kHz
FRAME_BYTES = 2 * FRAME_SAMPLES


@dataclasses.dataclass(frozen=True, slots=True)
class AudioFrame:
    pcm: np.ndarray  # int16, 320 samples, 16 kHz mono
    t: float  # time.monotonic() when the bridge handed it over
    index: int  # frame number since the tap was created


class FrameSubscription:
    """One reader's bounded buffer of frames."""

    def __init__(self, tap: AudioTap, maxframes: int) -> None:
        self._tap = tap
        self._frames: collections.deque[AudioFrame] = collections.deque()
        self._max = maxframes
        self._cond = threading.Condition(threading.Lock())
        self.dropped = 0
        self.closed = False

    def _push(self, frame: AudioFrame) -> None:
        with self._cond:
            if len(self._frames) >= self._max:
                self._frames.popleft()
                self.dropped += 1
            self._frames.append(frame)
            self._cond.notify()

    def get(self, timeout: float | None = None) -> AudioFrame | None:
        """The next frame; None on timeout, or once the tap is closed and drained."""
        with self._cond:
            if not self._frames and not self.closed:
                self._cond.wait(timeout)
            return self._frames.popleft() if self._frames else None

    def get_all(self, timeout: float | None = None) -> list[AudioFrame]:
        """Every frame waiting (after waiting up to ``timeout`` for one); [] on timeout, or
        once the tap is closed and drained. A reader that takes several frames per wake
        spends far less CPU than one woken for each."""
        with self._cond:
            if not self._frames and not self.closed:
                self._cond.wait(timeout)
            frames = list(self._frames)
            self._frames.clear()
            return frames

    def _close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def close(self) -> None:
        self._tap.unsubscribe(self)


class AudioTap:
    """One direction of one call's audio (``remote`` = the far end, ``local`` = what we send)."""

    def __init__(self, call_id: str, direction: str) -> None:
        self.call_id = call_id
        self.direction = direction
        self._subs: list[FrameSubscription] = []
        self._lock = threading.Lock()
        self.frames = 0
        self.closed = False
        self.last_frame_t = 0.0

    def subscribe(self, maxframes: int = 500) -> FrameSubscription:
        """500 frames = 10 s of slack before a slow reader starts losing audio."""
        sub = FrameSubscription(self, maxframes)
        with self._lock:
            if self.closed:
                sub._close()
            else:
                self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: FrameSubscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
        sub._close()

    def push(self, pcm_bytes: bytes) -> None:
        """Called on the media thread: cheap, never blocks for long, never raises."""
        if len(pcm_bytes) != FRAME_BYTES:
            if not pcm_bytes:
                return
            pcm_bytes = pcm_bytes[:FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
        now = time.monotonic()
        frame = AudioFrame(np.frombuffer(pcm_bytes, "<i2"), now, self.frames)
        self.frames += 1
        self.last_frame_t = now
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub._push(frame)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            subs, self._subs = self._subs, []
        for sub in subs:
            sub._close()
