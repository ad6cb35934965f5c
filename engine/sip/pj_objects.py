"""pjsua2 subclasses. Every object here is created, used and dropped on the engine thread,
except the media-port callbacks, which pjsua2 runs on its media clock thread: those only
copy bytes into an :class:`AudioTap` or out of a :class:`PcmSource` buffer.
"""

from __future__ import annotations

import collections
import ctypes
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pjsua2 as pj

from engine.sip.audio_tap import FRAME_BYTES, AudioTap

if TYPE_CHECKING:
    from engine.sip.engine import SipEngine

_SILENCE = bytes(FRAME_BYTES)
MEDIA_GIL_SWITCH_S = 0.001


def share_gil_with_media_clock() -> None:
    """Have a thread busy in Python hand the GIL over within 1 ms, not CPython's 5 ms.

    Why: the media clock runs our Python ports every 20 ms (each call's source and its two
    taps), and each one waits for the GIL. A thread busy in pure Python (the terminal UI
    redrawing) keeps it up to the switch interval every time: with three
    calls, up to 45 ms of each 20 ms tick, and the clock drops ticks. Two runs of three calls
    at once beside one busy Python thread (``bench/media_clock.py --at-once 3 --busy-thread``):
    at 5 ms the taps got 1315 of 3585 frames and the company heard both in-band keys on 3 of
    6 calls; at 1 ms 3482 of 3485, gaps at most 48 ms, 6 of 6. The busy thread lost about a
    tenth of its rounds, which it had been taking from the calls' audio."""
    if sys.getswitchinterval() > MEDIA_GIL_SWITCH_S:
        sys.setswitchinterval(MEDIA_GIL_SWITCH_S)


def vector_bytes(vec: pj.ByteVector) -> bytes:
    """The bytes of a pjsua2 ``ByteVector``, copied straight from its C++ buffer.

    Why: SWIG hands a ``std::vector<unsigned char>`` to Python one element at a time, about
    300 µs for a 20 ms frame here (this: 2 µs), 50 times a second for every tap, on pjsua2's
    media thread; a call with a tap cost 5.4 CPU-s a minute with it, 2.7 without
    (``bench/bench_sip.py``). A libstdc++ vector is three pointers (begin, end, end of
    storage); they are checked against ``size()`` before anything is read, and a vector
    laid out any other way takes SWIG's slow path."""
    word = ctypes.sizeof(ctypes.c_void_p)
    try:
        addr = int(vec.this)
        begin, end, cap = (ctypes.c_void_p.from_address(addr + i * word).value for i in range(3))
    except (AttributeError, TypeError, ValueError):
        return bytes(vec)
    n = vec.size()
    if not begin or end is None or cap is None or end - begin != n or cap < end:
        return bytes(vec)
    return ctypes.string_at(begin, n)


def pcm_format() -> pj.MediaFormatAudio:
    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, 16000, 1, 20000, 16)
    return fmt


class TapPort(pj.AudioMediaPort):
    """Receives whatever the conference bridge transmits to it and hands it to an AudioTap.

    ``tap`` is rebound when the port is reused for another call (see :class:`PortPool`)."""

    def __init__(self, tap: AudioTap | None = None) -> None:
        super().__init__()
        self.tap = tap

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # noqa: N802 (pjsua2 API)
        tap = self.tap
        try:
            if tap is not None and frame.size and frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                tap.push(vector_bytes(frame.buf))
        except Exception:  # never let an exception cross into pjsua2's media thread
            pass


class PcmSource:
    """Thread-safe queue of PCM clips to play into a call, with per-clip completion callbacks."""

    def __init__(self) -> None:
        self._clips: collections.deque[list] = collections.deque()  # [bytes, offset, on_done]
        self._lock = threading.Lock()

    def enqueue(self, pcm: np.ndarray, on_done: Callable[[], None] | None = None) -> None:
        data = np.asarray(pcm, dtype="<i2").tobytes()
        with self._lock:
            self._clips.append([data, 0, on_done])

    def clear(self) -> None:
        with self._lock:
            clips, self._clips = list(self._clips), collections.deque()
        for clip in clips:
            if clip[2]:
                clip[2]()

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._clips)

    def next_frame(self) -> bytes | None:
        """640 bytes of queued audio, or None when idle."""
        done: list[Callable[[], None]] = []
        with self._lock:
            if not self._clips:
                return None
            out = bytearray()
            while self._clips and len(out) < FRAME_BYTES:
                clip = self._clips[0]
                take = clip[0][clip[1]: clip[1] + FRAME_BYTES - len(out)]
                out += take
                clip[1] += len(take)
                if clip[1] >= len(clip[0]):
                    self._clips.popleft()
                    if clip[2]:
                        done.append(clip[2])
        for cb in done:
            cb()
        return bytes(out.ljust(FRAME_BYTES, b"\0"))


class SourcePort(pj.AudioMediaPort):
    """Feeds a call with queued PCM (speech, prompts, in-band DTMF); silence when idle.

    It is connected to the call as soon as media is up, which also keeps RFC 2833 digits
    flowing (pjsua2 silently drops them while the call's audio is connected to nothing)."""

    def __init__(self, source: PcmSource | None = None) -> None:
        super().__init__()
        self.source = source

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:  # noqa: N802 (pjsua2 API)
        source = self.source
        try:
            data = (source.next_frame() if source is not None else None) or _SILENCE
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(data)
            frame.size = len(data)
        except Exception:
            pass


class PortPool:
    """Media ports are created once and reused, never destroyed while the bridge runs.

    Why: since pjsua 2.14 the conference bridge removes ports asynchronously (on its clock
    thread), but ``~AudioMediaPort`` frees the port at once; destroying one mid-call can crash
    the process (seen as a segfault in the clock thread). At shutdown the ports are disowned
    (``thisown = False``) and kept referenced, so no destructor ever races the bridge."""

    def __init__(self) -> None:
        self._free_taps: list[TapPort] = []
        self._free_sources: list[SourcePort] = []
        self._all: list[pj.AudioMediaPort] = []
        self._n = 0

    def tap(self, tap: AudioTap) -> TapPort:
        port = self._free_taps.pop() if self._free_taps else self._new(TapPort())
        port.tap = tap
        return port

    def source(self, source: PcmSource) -> SourcePort:
        port = self._free_sources.pop() if self._free_sources else self._new(SourcePort())
        port.source = source
        return port

    def _new(self, port: TapPort | SourcePort) -> TapPort | SourcePort:
        self._n += 1
        port.createPort(f"{type(port).__name__.lower()}-{self._n}", pcm_format())
        self._all.append(port)
        return port

    def release(self, port: TapPort | SourcePort) -> None:
        if isinstance(port, TapPort):
            port.tap = None
            self._free_taps.append(port)
        else:
            port.source = None
            self._free_sources.append(port)

    def abandon(self) -> list[pj.AudioMediaPort]:
        """At shutdown: detach every port from Python ownership; the caller keeps them."""
        for port in self._all:
            port.thisown = False
        ports, self._all = self._all, []
        self._free_taps, self._free_sources = [], []
        return ports


_ABANDONED: list[object] = []  # ports that must outlive the interpreter's clean-up


def abandon_forever(objects: list[object]) -> None:
    _ABANDONED.extend(objects)


class PjCall(pj.Call):
    """Forwards pjsua2 call callbacks (engine thread) to the engine by call id."""

    def __init__(self, engine: SipEngine, call_id: str, acc: pj.Account,
                 pj_call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(acc, pj_call_id)
        self.engine = engine
        self.call_id = call_id

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        self.engine._on_call_state(self.call_id)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        self.engine._on_call_media_state(self.call_id)

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:  # noqa: N802
        self.engine._on_transfer_status(self.call_id, prm.statusCode, prm.reason, prm.finalNotify)

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:  # noqa: N802
        new_call = self.engine._on_transfer_request(self.call_id, str(prm.dstUri))
        if new_call is None:
            prm.statusCode = 603
        else:
            prm.newCall = new_call

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:  # noqa: N802
        self.engine._on_dtmf_received(self.call_id, prm.digit, int(prm.method))


class PjAccount(pj.Account):
    """Reports registration state; answers or declines incoming calls through the engine."""

    def __init__(self, engine: SipEngine, name: str) -> None:
        super().__init__()
        self.engine = engine
        self.name = name

    def onRegState(self, prm: pj.OnRegStateParam) -> None:  # noqa: N802
        self.engine._on_reg_state(self, int(prm.code), str(prm.reason), int(prm.expiration))

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802
        self.engine._on_incoming_call(self, prm.callId)
