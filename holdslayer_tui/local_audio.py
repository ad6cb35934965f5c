"""This computer's speaker and microphone: listen in on a call, or take the call here.

Most places Hold Slayer runs have no sound card (a home server reached over SSH, CI), and
``sounddevice`` cannot even be imported without PortAudio. So it is imported only when first
wanted, :meth:`LocalAudio.probe` says once why it cannot work, and every caller degrades to
"no local audio" instead of failing. Audio moves on threads this object owns (stopped through
an ``Event`` and joined in :meth:`close`): the UI thread never touches a sound stream.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

RATE = 16000  # the engine's conference bridge rate
BLOCK = 320  # 20 ms, one engine frame

Loader = Callable[[], Any]


def load_sounddevice() -> Any:
    import sounddevice  # raises OSError when PortAudio is missing

    return sounddevice


class LocalAudio:
    def __init__(self, loader: Loader = load_sounddevice) -> None:
        self._loader = loader
        self._sd: Any = None
        self._problem: str | None = None  # None: not probed yet
        self._lock = threading.Lock()
        self._links: dict[str, _Link] = {}

    def probe(self) -> str:
        """"" when a speaker and microphone exist, else why not (cached: PortAudio is slow to
        ask, and the answer does not change while the app runs)."""
        with self._lock:
            if self._problem is None:
                self._problem = self._find_devices()
            return self._problem

    def _find_devices(self) -> str:
        try:
            sd = self._loader()
            devices = list(sd.query_devices())
        except Exception as exc:  # OSError: PortAudio missing; anything else: broken driver
            return f"no audio library ({_short(exc)})"
        if not any(d.get("max_output_channels", 0) > 0 for d in devices):
            return "no speaker or sound card found"
        if not any(d.get("max_input_channels", 0) > 0 for d in devices):
            return "no microphone found"
        self._sd = sd
        return ""

    @property
    def available(self) -> bool:
        return self.probe() == ""

    def is_active(self, call_id: str) -> bool:
        return call_id in self._links

    def listen(self, call_id: str, tap: Any) -> None:
        """Play the call's far end on the speaker (raises RuntimeError if there is none)."""
        self._start(call_id, tap, None)

    def talk(self, call_id: str, tap: Any, send: Callable[[np.ndarray], Any]) -> None:
        """Hand the call over here: speaker plays the far end, the microphone feeds ``send``."""
        self._start(call_id, tap, send)

    def _start(self, call_id: str, tap: Any, send: Callable[[np.ndarray], Any] | None) -> None:
        if problem := self.probe():
            raise RuntimeError(problem)
        self.stop(call_id)
        link = _Link(self._sd, tap, send)
        link.start()
        with self._lock:
            self._links[call_id] = link

    def stop(self, call_id: str) -> None:
        with self._lock:
            link = self._links.pop(call_id, None)
        if link is not None:
            link.stop()

    def close(self) -> None:
        for call_id in list(self._links):
            self.stop(call_id)


class _Link:
    """One call's speaker (and microphone) streams, and the thread that feeds the speaker."""

    def __init__(self, sd: Any, tap: Any, send: Callable[[np.ndarray], Any] | None) -> None:
        self._sd, self._tap, self._send = sd, tap, send
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, name="local-audio", daemon=True)
        self._mic: Any = None

    def start(self) -> None:
        self._sub = self._tap.subscribe(maxframes=25)  # 0.5 s: stay live, drop what is late
        if self._send is not None:
            self._mic = self._sd.InputStream(samplerate=RATE, channels=1, dtype="int16",
                                             blocksize=BLOCK, callback=self._from_mic)
            self._mic.start()
        self._thread.start()

    def _from_mic(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        # PortAudio's callback thread: hand a copy on and return at once
        if self._send is not None:
            self._send(np.array(indata[:, 0], dtype=np.int16))

    def _play(self) -> None:
        try:
            with self._sd.OutputStream(samplerate=RATE, channels=1, dtype="int16",
                                       blocksize=BLOCK) as out:
                while not self._stop.is_set():
                    frame = self._sub.get(timeout=0.2)
                    if frame is None:
                        if self._sub.closed:
                            return  # the call ended
                        continue
                    out.write(frame.pcm.reshape(-1, 1))
        except Exception:
            return  # a device unplugged mid-call: the call itself goes on
        finally:
            self._sub.close()

    def stop(self) -> None:
        self._stop.set()
        if self._mic is not None:
            with contextlib.suppress(Exception):
                self._mic.stop()
                self._mic.close()
        self._sub.close()
        self._thread.join(1.0)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:80]
