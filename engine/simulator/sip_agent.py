"""The simulator's SIP side: one pjsua2 Endpoint owned by the main thread, answering calls
and giving each a :class:`CallSession` that runs a :class:`CallFlow`.

The pjsua2 wheel aborts the process on misuse, so lifetimes are strict: every pj object is
created, used and dropped on the main thread; Python objects that pjsua2 calls back hold the
session only through a weak reference (no reference cycles, so the garbage collector never
frees a pj object on the media-clock thread); a disconnected call's players, ports and the call
itself are dropped from the main loop, and everything is gone before ``libDestroy``.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import random
import sys
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pjsua2 as pj

from engine.simulator.call_flow import CallFlow
from engine.simulator.clock_watch import ClockWatch, LoopWatch
from engine.simulator.company import Company
from engine.simulator.ground_truth import GroundTruthLog
from engine.simulator.inband_dtmf import InbandDtmfDetector
from engine.simulator.prompts import Prompt, RenderedPrompt
from engine.simulator.speech_input import SpeechInput
from engine.sip.codecs import offer_only
from engine.sip.pj_objects import vector_bytes

log = logging.getLogger(__name__)

# The pjsua2-python wheel is built with PJSUA_MAX_CALLS = 4: a higher maxCalls is silently
# clamped, and pjsua answers a fifth simultaneous INVITE with 486 Busy Here by itself.
MAX_CONCURRENT_CALLS = 4
TAP_RATE = 16000
TAP_PTIME_US = 20000
DTMF_METHODS = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc2833", pj.PJSUA_DTMF_METHOD_SIP_INFO: "info"}


class SimulatorStartError(RuntimeError):
    """The SIP side could not start (e.g. the port is taken)."""


@dataclass
class SimulatorOptions:
    host: str = "127.0.0.1"
    port: int = 0
    max_calls: int | None = None
    hold_seconds: float | None = None
    seed: int | None = None
    record_dir: Path | None = None
    tcp: bool = True
    pj_log_level: int = 0
    packet_loss_pct: int = 0  # RTP packets we send and drop at random (a lossy line)
    codecs: tuple[str, ...] = ()  # speak only these codecs, first preferred (empty: all)


def _pj_reason(exc: pj.Error) -> str:
    try:
        return exc.info()
    except Exception:  # the binding's Error is thin; never let reporting fail
        return getattr(exc, "reason", "") or repr(exc)


@contextlib.contextmanager
def _quiet_stdout(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


_ABANDONED_TAPS: list[pj.AudioMediaPort] = []


class _CallerTap(pj.AudioMediaPort):
    """Receives the caller's audio. Runs on the media-clock thread: only copies bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: collections.deque[tuple[float, bytes]] = collections.deque(maxlen=3000)
        self.ticked = 0.0  # monotonic time of the clock's last call, audio or not

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        self.ticked = time.monotonic()
        if frame.size:
            self.frames.append((time.time(), vector_bytes(frame.buf)))


class _SipCall(pj.Call):
    def __init__(self, acc: pj.Account, call_id: int, session: CallSession) -> None:
        super().__init__(acc, call_id)
        self._session = weakref.ref(session)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        s = self._session()
        if s is not None:
            s.on_state()

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        s = self._session()
        if s is not None:
            s.on_media()

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        s = self._session()
        if s is not None:
            s.on_dtmf(prm.digit, DTMF_METHODS.get(prm.method, f"method{prm.method}"))


class _Account(pj.Account):
    def __init__(self, agent: SimulatorAgent) -> None:
        super().__init__()
        self._agent = weakref.ref(agent)

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        agent = self._agent()
        if agent is not None:
            agent.on_incoming(self, prm)


class CallSession:
    """One answered call: its pj objects and its flow. Implements ``CallMedia``."""

    def __init__(self, agent: SimulatorAgent, number: int) -> None:
        self.agent = agent
        self.number = number
        self.call: _SipCall | None = None
        self.audio: pj.AudioMedia | None = None
        self.tap: _CallerTap | None = None
        self.player: pj.AudioMediaPlayer | None = None
        self.music: dict[Path, pj.AudioMediaPlayer] = {}
        self.music_on: Path | None = None
        self.recorder: pj.AudioMediaRecorder | None = None
        self.detector = InbandDtmfDetector(rate=TAP_RATE)
        self.clock_watch = ClockWatch(agent.log, number)
        self.speech_input = SpeechInput()  # for speech menus; Whisper loads on first words
        self._tap_t0: float | None = None
        self.flow = CallFlow(
            agent.company, number, self, agent.log, agent.render, time.time,
            random.Random(None if agent.opts.seed is None else agent.opts.seed * 1000 + number),
            agent.opts.hold_seconds,
        )
        self.started = False
        self.disconnected = False
        self.pending_hangup: str | None = None

    # --- pjsua2 callbacks (main thread) --------------------------------------------------

    def on_state(self) -> None:
        assert self.call is not None
        ci = self.call.getInfo()
        if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.disconnected:
            self.disconnected = True
            self.flow.caller_hung_up(f"{ci.lastStatusCode} {ci.lastReason}".strip())

    def on_media(self) -> None:
        """Connect (or, after a re-INVITE moved the stream, reconnect) our ports to the call's
        audio. A port id from a stream that is gone must never reach the bridge: pjsua would
        assert and abort the process."""
        if self.disconnected or self.call is None:
            return
        ci = self.call.getInfo()
        audio_index = None
        for i, mi in enumerate(ci.media):
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status in (
                pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
                pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
            ):
                audio_index = i
                break
        if audio_index is None:
            self.audio = None  # media removed: the bridge already dropped its connections
            return
        audio = self.call.getAudioMedia(audio_index)
        if self.audio is not None and audio.getPortId() == self.audio.getPortId():
            return
        self.audio = audio
        if self.tap is None:
            self.tap = self.agent.take_tap()
        audio.startTransmit(self.tap)
        if self.player is not None:
            self.player.startTransmit(audio)
        if self.music_on is not None:
            self.music[self.music_on].startTransmit(audio)
        if self.recorder is not None:
            audio.startTransmit(self.recorder)

    def on_dtmf(self, digit: str, method: str) -> None:
        self.flow.digit(digit, method)

    # --- main loop ---------------------------------------------------------------------

    def pump(self, now: float) -> None:
        if self.disconnected:
            return
        if not self.started and self.audio is not None:
            self.started = True
            self.flow.start()
        if self.tap is not None:
            if self.audio is not None:  # connected: the clock calls the tap every 20 ms
                self.clock_watch.check(self.tap.ticked, time.monotonic())
            while self.tap.frames:
                t, raw = self.tap.frames.popleft()
                if self._tap_t0 is None:
                    self._tap_t0 = t
                pcm = np.frombuffer(raw, "<i2")
                for digit, onset in self.detector.feed(pcm):
                    self.flow.digit(digit, "inband", self._tap_t0 + onset)
                if self.flow.listening:
                    self.speech_input.feed(pcm, t)
                else:
                    self.speech_input.reset()
        for text, t_end in self.speech_input.results():
            self.flow.speech(text, t_end)
        self.flow.tick(now)
        if self.pending_hangup is not None and self.call is not None:
            self.pending_hangup = None
            try:
                self.call.hangup(pj.CallOpParam(True))
            except pj.Error as exc:
                log.warning("hangup of call %d failed: %s", self.number, _pj_reason(exc))

    def release(self) -> None:
        """Drop every pj object of this call, media first. Main thread only."""
        self.speech_input.close()
        self.player = None
        self.music.clear()
        self.recorder = None
        if self.tap is not None:
            self.agent.return_tap(self.tap)
        self.tap = None
        self.audio = None
        self.call = None

    # --- CallMedia ----------------------------------------------------------------------

    def _live(self) -> bool:
        return self.audio is not None and not self.disconnected

    def _quiet(self) -> None:
        self.player = None  # destroying the player removes it from the bridge
        if self.music_on is not None and self._live():
            self.music[self.music_on].stopTransmit(self.audio)
        self.music_on = None

    def play(self, prompt: RenderedPrompt) -> None:
        self._quiet()
        if not self._live():
            return
        player = pj.AudioMediaPlayer()
        player.createPlayer(str(prompt.path), pj.PJMEDIA_FILE_NO_LOOP)
        player.startTransmit(self.audio)
        self.player = player

    def play_music(self, path: Path) -> None:
        self._quiet()
        if not self._live():
            return
        if path not in self.music:
            player = pj.AudioMediaPlayer()
            player.createPlayer(str(path), 0)
            self.music[path] = player
        self.music[path].startTransmit(self.audio)
        self.music_on = path

    def stop(self) -> None:
        self._quiet()

    def start_recording(self) -> None:
        rec_dir = self.agent.opts.record_dir
        if rec_dir is None or not self._live() or self.recorder is not None:
            return
        rec_dir.mkdir(parents=True, exist_ok=True)
        path = rec_dir / f"call_{self.number}_caller.wav"
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(str(path))
        self.audio.startTransmit(recorder)
        self.recorder = recorder
        self.agent.log.write("recording", self.number, path=str(path))

    def hangup(self, reason: str) -> None:
        self._quiet()
        self.pending_hangup = reason


class SimulatorAgent:
    """Owns the Endpoint, the account and all call sessions. Construct, :meth:`start`,
    :meth:`run`, then :meth:`shutdown` — all on the same thread."""

    def __init__(
        self,
        company: Company,
        render: Callable[[Prompt], RenderedPrompt],
        log: GroundTruthLog,
        opts: SimulatorOptions,
    ) -> None:
        self.company = company
        self.render = render
        self.log = log
        self.opts = opts
        self.ep: pj.Endpoint | None = None
        self.acc: _Account | None = None
        self.port = 0
        self.sessions: dict[int, CallSession] = {}
        # Tap ports are reused, never destroyed mid-run: destroying an AudioMediaPort while
        # the bridge's clock thread may still call it can crash the process.
        self._free_taps: list[_CallerTap] = []
        self._all_taps: list[_CallerTap] = []
        self.calls_seen = 0
        self.calls_ended = 0
        self.stopping = False

    @property
    def uri(self) -> str:
        return f"sip:{self.company.user_part}@{self.opts.host}:{self.port}"

    def start(self) -> int:
        ep = pj.Endpoint()
        with _quiet_stdout(self.opts.pj_log_level == 0):
            ep.libCreate()  # logs its banner to fd 1 before any log level can be set
        self.ep = ep
        try:
            cfg = pj.EpConfig()
            cfg.uaConfig.threadCnt = 0
            cfg.uaConfig.mainThreadOnly = True
            cfg.uaConfig.maxCalls = MAX_CONCURRENT_CALLS
            cfg.uaConfig.userAgent = f"HoldSlayer-Simulator ({self.company.name})"
            cfg.medConfig.noVad = True
            cfg.medConfig.ecTailLen = 0
            cfg.medConfig.txDropPct = self.opts.packet_loss_pct
            cfg.logConfig.level = self.opts.pj_log_level
            cfg.logConfig.consoleLevel = self.opts.pj_log_level
            ep.libInit(cfg)
            ep.audDevManager().setNullDev()
            if self.opts.codecs:
                offer_only(ep, self.opts.codecs)  # ValueError: a codec this build lacks
            tcfg = pj.TransportConfig()
            tcfg.port = self.opts.port
            tcfg.boundAddress = self.opts.host
            tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
            self.port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
            if self.opts.tcp:
                tcp = pj.TransportConfig()
                tcp.port = self.port
                tcp.boundAddress = self.opts.host
                try:
                    ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, tcp)
                except pj.Error as exc:
                    log.warning("no TCP on port %d: %s", self.port, _pj_reason(exc))
            ep.libStart()
            acfg = pj.AccountConfig()
            acfg.idUri = self.uri
            self.acc = _Account(self)
            self.acc.create(acfg, True)
        except pj.Error as exc:
            self.shutdown()
            raise SimulatorStartError(
                f"cannot listen on {self.opts.host}:{self.opts.port}: {_pj_reason(exc)}"
            ) from None
        return self.port

    def on_incoming(self, acc: _Account, prm: pj.OnIncomingCallParam) -> None:
        if self.stopping:
            return  # not stored: pjsua2 declines it
        self.calls_seen += 1
        session = CallSession(self, self.calls_seen)
        call = _SipCall(acc, prm.callId, session)
        session.call = call
        self.sessions[self.calls_seen] = session
        ci = call.getInfo()
        first_line = prm.rdata.wholeMsg.split("\r\n", 1)[0].split(" ")
        self.log.write(
            "call_start", session.number, **{"from": ci.remoteUri}, to=ci.localUri,
            request_uri=first_line[1] if len(first_line) > 1 else None,
            sip_call_id=ci.callIdString, company=self.company.name,
        )
        op = pj.CallOpParam()
        op.statusCode = 200
        call.answer(op)

    def take_tap(self) -> _CallerTap:
        if self._free_taps:
            return self._free_taps.pop()
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, TAP_RATE, 1, TAP_PTIME_US, 16)
        tap = _CallerTap()
        tap.createPort(f"tap{len(self._all_taps)}", fmt)
        self._all_taps.append(tap)
        return tap

    def return_tap(self, tap: _CallerTap) -> None:
        tap.frames.clear()
        tap.ticked = 0.0
        self._free_taps.append(tap)

    def _reap(self) -> None:
        for number in [n for n, s in self.sessions.items() if s.disconnected]:
            session = self.sessions.pop(number)
            session.release()
            self.calls_ended += 1

    def done(self) -> bool:
        return bool(
            self.opts.max_calls and self.calls_ended >= self.opts.max_calls and not self.sessions
        )

    def run(self, should_stop: Callable[[], bool]) -> None:
        assert self.ep is not None
        pace = LoopWatch(self.log)
        while not should_stop() and not self.done():
            pace.tick(time.monotonic())
            self.ep.libHandleEvents(20)
            now = time.time()
            for session in list(self.sessions.values()):
                session.pump(now)
            self._reap()

    def shutdown(self) -> None:
        """Hang up every call, let the BYEs go out, drop all pj objects, destroy the library."""
        self.stopping = True
        if self.ep is None:
            return
        for session in self.sessions.values():
            if not session.disconnected and session.call is not None:
                if not session.flow.ended:
                    session.flow.ended = True
                    self.log.write("hangup", session.number, by="simulator", reason="shutdown",
                                   node=session.flow.node.id if session.flow.node else None)
                session.hangup("shutdown")
                session.pump(time.time())
        deadline = time.time() + 2.0
        while self.sessions and time.time() < deadline:
            self.ep.libHandleEvents(20)
            self._reap()
        for session in self.sessions.values():
            session.release()
        self.sessions.clear()
        if self.acc is not None:
            try:
                self.acc.shutdown()
            except pj.Error as exc:
                log.warning("account shutdown: %s", _pj_reason(exc))
            self.acc = None
        for tap in self._all_taps:  # never destructed: see take_tap
            tap.thisown = False
        _ABANDONED_TAPS.extend(self._all_taps)
        self._all_taps, self._free_taps = [], []
        gc.collect()
        self.ep.libDestroy()
        self.ep = None
