"""Call recording: the company's audio (``outbound``), the user's side after hand-over plus
anything we played into the call (``inbound``), and both mixed (``mixed``).

Each recording is a writer thread reading the call's audio taps, so the media thread never
waits on the disk. Files are 16 kHz mono WAV under ``recordings/YYYY/MM/DD/`` and their
headers are rewritten every second: after a crash the file is readable up to the last second.
A recording stops by itself at ``max_recording_seconds`` or when the call ends.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.events import EventBus, EventType
from engine.sip.audio_tap import FRAME_SAMPLES, AudioTap, FrameSubscription
from engine.wavio import BRIDGE_RATE, GrowingWavWriter

log = logging.getLogger(__name__)

KINDS = ("outbound", "inbound", "mixed")


class TapSource(Protocol):
    def tap(self, call_id: str, direction: str = "remote") -> AudioTap: ...


class RecordingError(RuntimeError):
    pass


@dataclasses.dataclass
class _Recording:
    call_id: str
    writers: dict[str, GrowingWavWriter]
    remote: FrameSubscription
    local: FrameSubscription
    stop: threading.Event
    thread: threading.Thread | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    stop_reason: str = ""
    result: dict[str, Any] | None = None


class RecordingService:
    """``start_recording`` / ``stop_recording`` / ``get_recordings``, per call id."""

    def __init__(self, engine: TapSource, bus: EventBus, base_dir: str | Path,
                 max_recording_seconds: float = 7200) -> None:
        self.engine = engine
        self.bus = bus
        self.base_dir = Path(base_dir)
        self.max_recording_seconds = max_recording_seconds
        self._active: dict[str, _Recording] = {}
        self._done: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self._lock = threading.Lock()

    def path_for(self, call_id: str, kind: str, when: float | None = None) -> Path:
        day = time.strftime("%Y/%m/%d", time.localtime(when or time.time()))
        return self.base_dir / day / f"call_{call_id}_{kind}.wav"

    def start_recording(self, call_id: str, kinds: tuple[str, ...] = KINDS) -> dict[str, str]:
        """Start writing; returns ``{kind: path}``. Raises if already recording this call."""
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise RecordingError(f"unknown recording kind(s) {sorted(unknown)}; use {KINDS}")
        with self._lock:
            if call_id in self._active:
                raise RecordingError(f"call {call_id} is already being recorded")
            remote = self.engine.tap(call_id, "remote").subscribe(maxframes=3000)
            local = self.engine.tap(call_id, "local").subscribe(maxframes=3000)
            try:
                writers = {k: GrowingWavWriter(self.path_for(call_id, k)) for k in kinds}
            except OSError as exc:
                remote.close()
                local.close()
                raise RecordingError(f"cannot create recording files: {exc}") from exc
            rec = _Recording(call_id, writers, remote, local, threading.Event())
            rec.thread = threading.Thread(target=self._run, args=(rec,), daemon=True,
                                          name=f"recorder-{call_id}")
            self._active[call_id] = rec
        rec.thread.start()
        paths = {k: str(w.path) for k, w in writers.items()}
        self.bus.emit(EventType.RECORDING_STARTED, call_id, paths=paths)
        return paths

    def stop_recording(self, call_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Finish the files; returns ``{duration, file_size, path, files}`` (path: mixed)."""
        with self._lock:
            rec = self._active.get(call_id)
        if rec is None:
            done = self._done.get(call_id)
            if done:
                return done[-1]
            raise RecordingError(f"call {call_id} is not being recorded")
        rec.stop_reason = rec.stop_reason or "stopped"
        rec.stop.set()
        if rec.thread and rec.thread is not threading.current_thread():
            rec.thread.join(timeout)
        return rec.result or self._finish(rec)

    def get_recordings(self, call_id: str) -> list[dict[str, Any]]:
        """Finished recordings of a call (one entry per start/stop)."""
        with self._lock:
            return list(self._done.get(call_id, []))

    def stop_all(self) -> None:
        with self._lock:
            ids = list(self._active)
        for call_id in ids:
            try:
                self.stop_recording(call_id)
            except RecordingError:
                pass

    # ------------------------------------------------------------------ writer thread
    def _run(self, rec: _Recording) -> None:
        outbound = rec.writers.get("outbound")
        inbound = rec.writers.get("inbound")
        mixed = rec.writers.get("mixed")
        pending_r: collections.deque[np.ndarray] = collections.deque()
        pending_l: collections.deque[np.ndarray] = collections.deque()
        max_samples = int(self.max_recording_seconds * BRIDGE_RATE)
        last_flush = time.monotonic()
        try:
            while not rec.stop.is_set():
                frame = rec.remote.get(timeout=0.1)
                got_remote = frame is not None
                while frame is not None:
                    pending_r.append(frame.pcm)
                    frame = rec.remote.get(timeout=0)
                while (lf := rec.local.get(timeout=0)) is not None:
                    pending_l.append(lf.pcm)
                # pair frames from the two taps; a side that stops flowing becomes silence
                first = next(iter(rec.writers.values()))
                silence = np.zeros(FRAME_SAMPLES, np.int16)
                while first.samples < max_samples and pending_r and (
                        pending_l or len(pending_r) > 10 or rec.local.closed):
                    lo = pending_l.popleft() if pending_l else silence
                    self._write(outbound, inbound, mixed, pending_r.popleft(), lo)
                while first.samples < max_samples and len(pending_l) > 25 and not pending_r:
                    # the far end sent nothing for 0.5 s: keep our side, theirs is silence
                    self._write(outbound, inbound, mixed, silence, pending_l.popleft())
                if first.samples >= max_samples:
                    limit = self.max_recording_seconds
                    rec.stop_reason = f"reached max_recording_seconds ({limit:g} s)"
                    break
                if rec.remote.closed and not got_remote:
                    rec.stop_reason = rec.stop_reason or "call ended"
                    break
                if time.monotonic() - last_flush >= 1.0:
                    for w in rec.writers.values():
                        w.flush()
                    last_flush = time.monotonic()
        except OSError as exc:  # disk full, removed directory: keep what is written
            rec.stop_reason = f"recording failed: {exc}"
            log.error("call %s: %s", rec.call_id, rec.stop_reason)
        finally:
            self._finish(rec)

    @staticmethod
    def _write(outbound: GrowingWavWriter | None, inbound: GrowingWavWriter | None,
               mixed: GrowingWavWriter | None, r: np.ndarray, lo: np.ndarray) -> None:
        if outbound:
            outbound.write(r)
        if inbound:
            inbound.write(lo)
        if mixed:
            both = r.astype(np.int32) + lo.astype(np.int32)
            mixed.write(np.clip(both, -32768, 32767).astype(np.int16))

    def _finish(self, rec: _Recording) -> dict[str, Any]:
        with self._lock:
            if rec.result is not None:
                return rec.result
            files = {}
            for kind, w in rec.writers.items():
                try:
                    w.close()
                    size = w.path.stat().st_size
                except OSError:
                    size = 0
                files[kind] = {"path": str(w.path), "duration": round(w.duration, 3),
                               "file_size": size}
            rec.remote.close()
            rec.local.close()
            main = files.get("mixed") or next(iter(files.values()))
            rec.result = {**main, "files": files, "call_id": rec.call_id,
                          "reason": rec.stop_reason or "stopped", "started_at": rec.started_at}
            self._active.pop(rec.call_id, None)
            self._done[rec.call_id].append(rec.result)
        for kind, info in files.items():
            self.bus.emit(EventType.RECORDING_STOPPED, rec.call_id, kind=kind,
                          reason=rec.result["reason"], **info)
        return rec.result
