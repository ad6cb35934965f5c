"""The SIP engine: one thread owns the pjsua2 Endpoint; everything else sends it commands.

Why: the pjsua2 wheel is built with C asserts, so touching it from a second thread (or
dropping a Call on the wrong thread) aborts the whole process. Here the engine thread loops
``libHandleEvents(20)``, drains a command queue and runs its own timers (DTMF spacing, RTP
watchdog, deferred clean-up); other threads get :class:`concurrent.futures.Future` results
and :mod:`engine.events` events. Audio leaves through :class:`AudioTap` and enters through a
thread-safe :class:`PcmSource`, so neither needs the engine thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
import logging
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pjsua2 as pj

from engine.config import SipSettings
from engine.events import Event, EventBus, EventType
from engine.sip import commands as cmds
from engine.sip import gc_pause
from engine.sip.audio_tap import AudioTap
from engine.sip.codecs import offer_only, prefer_standard
from engine.sip.dtmf import INBAND_TONE_S, DtmfMethod, plan_digits, tone
from engine.sip.line_quality import LineQuality, loss_pct
from engine.sip.pj_objects import (
    PcmSource,
    PjAccount,
    PjCall,
    PortPool,
    SourcePort,
    TapPort,
    abandon_forever,
    share_gil_with_media_clock,
)
from engine.sip.sip_causes import (
    describe_reg_failure,
    describe_secure_failure,
    describe_sip_status,
)
from engine.sip.targets import Target, needs_tls, parse_target
from engine.wavio import read_wav

log = logging.getLogger(__name__)

PJMEDIA_RTP_EREMNORFC2833 = 220000 + 102  # PJMEDIA_ERRNO_START + 102
MAX_CALLS = 4  # the pjsua2-python wheel is built with PJSUA_MAX_CALLS = 4 (more is capped)
TLS_HANDSHAKE_MS = 10000  # a peer that accepts TCP but never finishes TLS must not stall a call
_SRTP_USE = {"off": pj.PJMEDIA_SRTP_DISABLED, "optional": pj.PJMEDIA_SRTP_OPTIONAL,
             "mandatory": pj.PJMEDIA_SRTP_MANDATORY}
_MEDIA_PROTO = {pj.PJMEDIA_TP_PROTO_RTP_AVP: "RTP/AVP", pj.PJMEDIA_TP_PROTO_RTP_AVPF: "RTP/AVPF",
                pj.PJMEDIA_TP_PROTO_RTP_SAVP: "RTP/SAVP",
                pj.PJMEDIA_TP_PROTO_RTP_SAVPF: "RTP/SAVPF",
                pj.PJMEDIA_TP_PROTO_DTLS_SRTP: "UDP/TLS/RTP/SAVP",
                pj.PJMEDIA_TP_PROTO_DTLS_SRTPF: "UDP/TLS/RTP/SAVPF"}


class SipError(RuntimeError):
    """A SIP operation failed; the message is meant for the user."""


class RegistrationError(SipError):
    pass


def pj_message(exc: pj.Error) -> str:
    try:
        return f"{exc.title}: {exc.reason}".strip(": ") if exc.reason else exc.info()
    except Exception:  # pragma: no cover - defensive
        return "pjsua2 error"


@dataclasses.dataclass
class CallLeg:
    """Engine-thread state of one call."""

    call_id: str
    uri: str
    direction: str
    source: PcmSource
    remote_tap: AudioTap
    local_tap: AudioTap
    dtmf_method: DtmfMethod
    meta: dict[str, Any]
    pj_call: PjCall | None = None
    audio: pj.AudioMedia | None = None
    conf_slot: int = -1
    remote_port: TapPort | None = None
    local_port: TapPort | None = None
    source_port: SourcePort | None = None
    state: str = "calling"
    started_at: float = dataclasses.field(default_factory=time.time)
    answered_at: float | None = None
    ended: bool = False
    end_reason: str | None = None
    bridged: set[str] = dataclasses.field(default_factory=set)
    rx_pkts: int = -1
    rx_lost: int = 0  # RTP packets the far end sent that never came (RTCP's count)
    codec: str = ""  # the negotiated audio codec, "PCMU/8000"
    quality: LineQuality = dataclasses.field(default_factory=LineQuality)
    rx_changed_at: float = dataclasses.field(default_factory=time.monotonic)
    notified_ringing: bool = False
    notified_early: bool = False
    media_proto: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class CallSnapshot:
    call_id: str
    uri: str
    direction: str
    state: str
    started_at: float
    answered_at: float | None
    dtmf_method: str
    meta: dict[str, Any]
    media_proto: str = ""  # the negotiated SDP profile: "RTP/SAVP" means SRTP


class SipEngine:
    """Start with :meth:`start`, stop with :meth:`stop`; every other method is thread-safe."""

    def __init__(
        self,
        bus: EventBus,
        settings: SipSettings | None = None,
        *,
        auto_answer: bool = False,
        user_agent: str = "HoldSlayer/0.1",
        tls_cert_file: str = "",
        tls_key_file: str = "",
    ) -> None:
        """``tls_cert_file``/``tls_key_file`` (PEM) are only needed to *accept* TLS calls (a
        test peer, a simulator); placing TLS calls needs no certificate of our own. With
        them and ``transport = "tls"`` our Contact is ``sips:``, as ``sips:`` callers need."""
        self.bus = bus
        self.settings = settings or SipSettings()
        self.auto_answer = auto_answer
        self.user_agent = user_agent
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._start_error: BaseException | None = None
        self._legs: dict[str, CallLeg] = {}
        self._lock = threading.Lock()
        self._taps: dict[tuple[str, str], AudioTap] = {}
        self._sources: dict[str, PcmSource] = {}
        self._snapshots: dict[str, CallSnapshot] = {}
        self._reg_state: dict[str, Any] = {"registered": False, "code": 0, "message": "idle"}
        self._reg_event = threading.Event()
        self.local_port = 0
        self.local_host = self.settings.bind_host
        # engine-thread-only pjsua2 objects
        self._ep: pj.Endpoint | None = None
        self._direct_acc: PjAccount | None = None
        self._trunk_acc: PjAccount | None = None
        self._tls_cert_file, self._tls_key_file = tls_cert_file, tls_key_file
        self._tls_tid: int | None = None
        self._sips_acc: PjAccount | None = None
        self._ports = PortPool()
        self._last_watchdog = 0.0

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> SipEngine:
        if self._thread:
            return self
        share_gil_with_media_clock()
        self._thread = threading.Thread(target=self._run, name="sip-engine", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise SipError("the SIP engine did not start in time")
        if self._start_error:
            raise SipError(f"cannot start SIP: {self._start_error}") from self._start_error
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Hang up every call, then tear pjsua2 down on its own thread."""
        if not self._thread:
            return
        self._stopping.set()
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> SipEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive() and not self._stopping.is_set())

    # ------------------------------------------------------------------ thread-safe API
    def _call_on_engine(self, fn: Callable[[], Any]) -> Future:
        fut: Future = Future()
        if not self.running:
            fut.set_exception(SipError("the SIP engine is not running"))
            return fut
        self._commands.put((fn, fut))
        return fut

    def submit(self, command: cmds.Command) -> Future:
        """Run a serialisable command on the engine thread; the Future holds its result."""
        handler = getattr(self, f"_do_{command.kind}", None)
        if handler is None:
            fut: Future = Future()
            fut.set_exception(SipError(f"unknown command {command.kind!r}"))
            return fut
        return self._call_on_engine(lambda: handler(command))

    def resolve(self, target: str | Target) -> tuple[str, bool]:
        """(SIP URI, via trunk?) for a dial target. Demo targets are resolved by the session."""
        t = parse_target(target, self.settings.default_country) if isinstance(target, str) \
            else target
        if t.kind == "sip":
            return t.value, self._same_host_as_trunk(t.value)
        if t.kind == "demo":
            raise SipError("demo targets are dialled through the simulator (see engine.session)")
        s = self.settings
        if not s.registrar:
            raise SipError(
                f"cannot dial {t.original!r}: no SIP trunk is configured. Set [sip] registrar, "
                "username and password in the config file, or dial demo:<company> or a sip: URI"
            )
        user = t.value if s.number_format == "e164" else t.value.lstrip("+")
        domain = s.dial_domain or s.registrar.split(":", 1)[1].split(";")[0]
        return f"sip:{user}@{domain}" + _transport_param(s.transport), True

    def _same_host_as_trunk(self, uri: str) -> bool:
        if not self.settings.registrar:
            return False
        host = self.settings.registrar.split(":", 1)[1].split(";")[0]
        return uri.split("@")[-1].split(";")[0] == host

    def new_call_id(self) -> str:
        return uuid.uuid4().hex[:12]

    def dial(
        self,
        uri: str,
        *,
        call_id: str | None = None,
        via_trunk: bool = False,
        dtmf_method: str | None = None,
        **meta: Any,
    ) -> str:
        """Start a call; returns its id at once. Progress arrives as events."""
        call_id = call_id or self.new_call_id()
        self._prepare_media(call_id)
        fut = self.submit(cmds.Dial(uri=uri, call_id=call_id, via_trunk=via_trunk,
                                    dtmf_method=dtmf_method, meta=meta))
        fut.result(timeout=10)
        return call_id

    def hangup(self, call_id: str, reason: str = "hung up by user") -> Future:
        return self.submit(cmds.Hangup(call_id=call_id, reason=reason))

    def send_dtmf(self, call_id: str, digits: str, method: str | None = None,
                  spacing: float | None = None, private: bool = False,
                  source: str = "user") -> Future:
        """Completes (Future result: list of (digit, method)) after the last digit.
        ``private`` digits (account numbers) are masked in events and history."""
        plan_digits(digits)  # raise ValueError here, in the caller's thread
        return self.submit(cmds.SendDtmf(call_id=call_id, digits=digits, method=method,
                                         spacing=spacing, private=private, source=source))

    def play_pcm(self, call_id: str, pcm: np.ndarray) -> Future:
        """Queue 16 kHz mono int16 audio into the call; the Future resolves once played."""
        fut: Future = Future()
        source = self._sources.get(call_id)
        if source is None:
            fut.set_exception(SipError(f"no call {call_id}"))
            return fut
        source.enqueue(pcm, on_done=lambda: fut.done() or fut.set_result(True))
        return fut

    def play_file(self, call_id: str, path: str | os.PathLike[str]) -> Future:
        return self.play_pcm(call_id, read_wav(Path(path)))

    def stop_audio(self, call_id: str) -> None:
        source = self._sources.get(call_id)
        if source:
            source.clear()

    def bridge(self, call_a: str, call_b: str) -> Future:
        return self.submit(cmds.Bridge(call_a=call_a, call_b=call_b))

    def transfer(self, call_id: str, uri: str) -> Future:
        return self.submit(cmds.Transfer(call_id=call_id, uri=uri))

    def tap(self, call_id: str, direction: str = "remote") -> AudioTap:
        """The call's ``remote`` (far end) or ``local`` (what we send) audio frames."""
        with self._lock:
            tap = self._taps.get((call_id, direction))
        if tap is None:
            raise SipError(f"no call {call_id}")
        return tap

    def calls(self) -> list[CallSnapshot]:
        with self._lock:
            return list(self._snapshots.values())

    def call_state(self, call_id: str) -> str | None:
        with self._lock:
            snap = self._snapshots.get(call_id)
        return snap.state if snap else None

    def registration(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._reg_state)

    def wait_registered(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the trunk registers; raise RegistrationError with the reason if not."""
        if not self.settings.registrar:
            raise RegistrationError("no SIP trunk configured")
        timeout = self.settings.register_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._reg_event.wait(max(0.0, deadline - time.monotonic()))
            state = self.registration()
            if state["registered"]:
                return state
            if state["code"] >= 300 or state.get("final"):
                raise RegistrationError(state["message"])
            self._reg_event.clear()
        raise RegistrationError(
            f"registrar {self.settings.registrar} did not answer within {timeout:.0f} s"
        )

    # ------------------------------------------------------------------ engine thread
    def _run(self) -> None:
        try:
            self._init_pj()
        except BaseException as exc:  # report to start(), then leave
            self._start_error = exc if not isinstance(exc, pj.Error) else SipError(
                pj_message(exc))
            # the Endpoint is gone before start() raises: one per process, and the caller
            # may start the next engine at once (a corrected config). The traceback's frames
            # hold it too, and it is freed only once nothing does
            self._start_error = self._start_error.with_traceback(None)
            del exc
            self._destroy_pj()
            self._ready.set()
            return
        self._ready.set()
        try:
            while not self._stopping.is_set():
                self._ep.libHandleEvents(20)
                self._drain_commands()
                self._run_timers()
                now = time.monotonic()
                if now - self._last_watchdog >= 0.5:
                    self._last_watchdog = now
                    self._watchdog()
                    gc_pause.sweep_if_due(now)
        except Exception:
            log.exception("SIP engine loop crashed")
            self.bus.emit(EventType.ENGINE_ERROR, message="SIP engine loop crashed")
        finally:
            self._shutdown_pj()

    def _init_pj(self) -> None:
        s = self.settings
        ep = pj.Endpoint()
        self._ep = ep
        with _stdout_to_stderr():  # pjlib logs to stdout before libInit; keep --json clean
            ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.uaConfig.userAgent = self.user_agent
        cfg.medConfig.noVad = True
        cfg.medConfig.clockRate = 16000
        cfg.medConfig.sndClockRate = 16000
        cfg.medConfig.maxMediaPorts = 256
        level = int(os.environ.get("HOLDSLAYER_PJ_LOG", "0"))
        cfg.logConfig.level = level
        cfg.logConfig.consoleLevel = level
        cfg.logConfig.msgLogging = 1 if level >= 4 else 0
        ep.libInit(cfg)
        ep.audDevManager().setNullDev()
        if s.codecs:
            try:
                offer_only(ep, s.codecs)
            except ValueError as exc:
                raise ValueError(f"[sip] codecs: {exc}") from None
        else:
            prefer_standard(ep)
        tid = self._create_transport(s.transport, s.bind_port)
        self.local_port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        ep.libStart()
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:holdslayer@{s.public_host or s.bind_host}:{self.local_port}"
        if s.transport == "tls" and self._tls_cert_file:
            # we accept TLS calls: sips: callers refuse a Contact that is not sips: (see
            # _direct_account_for), so offer one
            acfg.sipConfig.contactForced = \
                f"<sips:holdslayer@{s.public_host or s.bind_host}:{self.local_port}>"
        self._secure_media(acfg)
        self._direct_acc = PjAccount(self, "direct")
        self._direct_acc.create(acfg, True)
        if s.registrar:
            self._create_trunk_account()

    def _create_transport(self, kind: str, port: int) -> int:
        s = self.settings
        tcfg = pj.TransportConfig()
        tcfg.boundAddress = s.bind_host
        tcfg.port = port
        if s.public_host:
            tcfg.publicAddress = s.public_host
        if kind == "tls":
            tls = tcfg.tlsConfig
            tls.CaListFile = s.tls_ca_file
            tls.verifyServer = s.tls_verify_server
            tls.certFile, tls.privKeyFile = self._tls_cert_file, self._tls_key_file
            tls.msecTimeout = TLS_HANDSHAKE_MS
        pj_kind = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP,
                   "tls": pj.PJSIP_TRANSPORT_TLS}[kind]
        tid = self._ep.transportCreate(pj_kind, tcfg)
        if kind == "tls":
            self._tls_tid = tid
        return tid

    def _direct_account_for(self, uri: str) -> PjAccount:
        """The account that places a call to ``uri`` without the trunk.

        A ``sips:`` or ``;transport=tls`` URI needs a TLS transport even when the trunk uses
        UDP or TCP: one is made on demand (any free port). A ``sips:`` peer also insists on a
        ``sips:`` Contact ("SIPS Required"), which this pjsua build never writes by itself
        (its PJSUA_SECURE_SCHEME is "sip"), so those calls go through an account that forces
        one."""
        if not needs_tls(uri):
            return self._direct_acc
        try:
            if self._tls_tid is None:
                self._create_transport("tls", 0)
            if not uri.strip().lstrip("<").lower().startswith("sips:"):
                return self._direct_acc
            if self._sips_acc is None:
                s = self.settings
                port = self._ep.transportGetInfo(self._tls_tid).localName.rsplit(":", 1)[1]
                me = f"sips:holdslayer@{s.public_host or s.bind_host}:{port}"
                acfg = pj.AccountConfig()
                acfg.idUri = me
                acfg.sipConfig.transportId = self._tls_tid
                acfg.sipConfig.contactForced = f"<{me}>"
                self._secure_media(acfg)
                acc = PjAccount(self, "direct-sips")
                acc.create(acfg, False)
                self._sips_acc = acc
        except pj.Error as exc:
            raise SipError(f"cannot dial {uri} over TLS: {pj_message(exc)}") from None
        return self._sips_acc

    def _secure_media(self, acfg: pj.AccountConfig) -> None:
        """SRTP per ``[sip] srtp``. Secure signalling is not required (0): SDES keys are
        private only over TLS, but insisting on it would refuse SRTP on UDP trunks."""
        acfg.mediaConfig.srtpUse = _SRTP_USE[self.settings.srtp]
        acfg.mediaConfig.srtpSecureSignaling = 0

    def _create_trunk_account(self) -> None:
        s = self.settings
        host = s.registrar.split(":", 1)[1].split(";")[0]
        suffix = _transport_param(s.transport)
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{s.username}@{s.dial_domain or host.split(':')[0]}"
        acfg.regConfig.registrarUri = s.registrar + suffix
        acfg.regConfig.timeoutSec = 300
        acfg.regConfig.retryIntervalSec = 60
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo(
            "digest", s.realm, s.auth_username or s.username, 0, s.password.get_secret_value()))
        if s.outbound_proxy:
            acfg.sipConfig.proxies.append(s.outbound_proxy + ";lr" + suffix)
        self._secure_media(acfg)
        self._set_reg({"registered": False, "code": 0, "message": f"registering to {s.registrar}"})
        self._trunk_acc = PjAccount(self, "trunk")
        self._trunk_acc.create(acfg, False)

    def _drain_commands(self) -> None:
        for _ in range(64):
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                result = fn()
            except pj.Error as exc:
                fut.set_exception(SipError(pj_message(exc)))
            except Exception as exc:
                fut.set_exception(exc)
            else:
                if isinstance(result, Future):
                    result.add_done_callback(lambda r, f=fut: _chain(r, f))
                else:
                    fut.set_result(result)

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_seq), fn))

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn = heapq.heappop(self._timers)
            try:
                fn()
            except pj.Error as exc:
                log.warning("SIP timer failed: %s", pj_message(exc))
            except Exception:
                log.exception("SIP timer failed")

    # ------------------------------------------------------------------ media plumbing
    def prepare_call(self, call_id: str | None = None) -> str:
        """Reserve a call id and its audio taps before dialling, so a consumer can
        subscribe to the very first frame."""
        call_id = call_id or self.new_call_id()
        self._prepare_media(call_id)
        return call_id

    def discard_prepared(self, call_id: str) -> None:
        """Release a call id reserved with :meth:`prepare_call` that never became a call
        (closing its taps ends their readers). A dialled call cleans up by itself."""
        with self._lock:
            if call_id in self._snapshots:
                return
            taps = [self._taps.pop((call_id, d), None) for d in ("remote", "local")]
            self._sources.pop(call_id, None)
        for tap in taps:
            if tap is not None:
                tap.close()

    def _prepare_media(self, call_id: str) -> None:
        with self._lock:
            if call_id in self._sources:
                return
            self._taps[(call_id, "remote")] = AudioTap(call_id, "remote")
            self._taps[(call_id, "local")] = AudioTap(call_id, "local")
            self._sources[call_id] = PcmSource()

    def _new_leg(self, call_id: str, uri: str, direction: str, dtmf: str | None,
                 meta: dict[str, Any]) -> CallLeg:
        with self._lock:
            leg = CallLeg(
                call_id=call_id, uri=uri, direction=direction,
                source=self._sources[call_id],
                remote_tap=self._taps[(call_id, "remote")],
                local_tap=self._taps[(call_id, "local")],
                dtmf_method=DtmfMethod(dtmf or self.settings.dtmf_method), meta=meta,
            )
        self._legs[call_id] = leg
        self._snapshot(leg)
        gc_pause.freeze_for_call()
        return leg

    def _snapshot(self, leg: CallLeg) -> None:
        snap = CallSnapshot(leg.call_id, leg.uri, leg.direction, leg.state, leg.started_at,
                            leg.answered_at, leg.dtmf_method.value, dict(leg.meta),
                            leg.media_proto)
        with self._lock:
            self._snapshots[leg.call_id] = snap

    def _connect_media(self, leg: CallLeg, audio: pj.AudioMedia, slot: int) -> None:
        if leg.conf_slot == slot and leg.audio is not None:
            return
        if leg.audio is not None:
            self._disconnect_media(leg)
        leg.remote_port = self._ports.tap(leg.remote_tap)
        leg.local_port = self._ports.tap(leg.local_tap)
        leg.source_port = self._ports.source(leg.source)
        audio.startTransmit(leg.remote_port)
        leg.source_port.startTransmit(audio)
        leg.source_port.startTransmit(leg.local_port)
        leg.audio, leg.conf_slot = audio, slot
        for other_id in list(leg.bridged):
            other = self._legs.get(other_id)
            if other and other.audio is not None:
                self._link(leg, other)

    def _disconnect_media(self, leg: CallLeg) -> None:
        """Undo our connections and return the ports to the pool (they are never destroyed
        mid-run). Connections to the call's own slot vanish with the call's stream."""
        if leg.source_port is not None and leg.local_port is not None:
            with contextlib.suppress(pj.Error):
                leg.source_port.stopTransmit(leg.local_port)
        if leg.local_port is not None:
            for other_id in leg.bridged:
                other = self._legs.get(other_id)
                if other is not None and other.audio is not None and not other.ended:
                    with contextlib.suppress(pj.Error):
                        other.audio.stopTransmit(leg.local_port)
        if leg.audio is not None and not leg.ended:
            for port in (leg.remote_port, leg.source_port):
                with contextlib.suppress(pj.Error):
                    if port is leg.remote_port and port is not None:
                        leg.audio.stopTransmit(port)
                    elif port is not None:
                        port.stopTransmit(leg.audio)
        for port in (leg.remote_port, leg.local_port, leg.source_port):
            if port is not None:
                self._ports.release(port)
        leg.remote_port = leg.local_port = leg.source_port = None
        leg.audio, leg.conf_slot = None, -1

    def _link(self, a: CallLeg, b: CallLeg) -> None:
        a.audio.startTransmit(b.audio)
        b.audio.startTransmit(a.audio)
        a.audio.startTransmit(b.local_port)
        b.audio.startTransmit(a.local_port)

    # ------------------------------------------------------------------ command handlers
    def _do_dial(self, c: cmds.Dial) -> str:
        if c.call_id in self._legs:
            raise SipError(f"call id {c.call_id} already in use")
        if c.via_trunk and self._trunk_acc is None:
            raise SipError("no SIP trunk account to dial through")
        live = sum(1 for leg in self._legs.values() if not leg.ended)
        if live >= MAX_CALLS:
            raise SipError(f"already {live} calls in progress, the most one Hold Slayer can "
                           "hold at once; hang up one or queue this call")
        acc = self._trunk_acc if c.via_trunk else self._direct_account_for(c.uri)
        if c.call_id not in self._sources:
            self._prepare_media(c.call_id)
        leg = self._new_leg(c.call_id, c.uri, "outbound", c.dtmf_method, dict(c.meta))
        self.bus.emit(EventType.CALL_STARTED, c.call_id, uri=c.uri, direction="outbound",
                      dtmf_method=leg.dtmf_method.value, **c.meta)
        call = PjCall(self, c.call_id, acc)
        leg.pj_call = call
        prm = pj.CallOpParam(True)
        try:
            call.makeCall(c.uri, prm)
        except pj.Error as exc:
            msg = pj_message(exc)
            # a Call whose makeCall failed asserts in its C++ destructor: never destroy it
            call.thisown = False
            leg.pj_call = None
            self._finish(leg, f"cannot place the call to {c.uri}: {msg}", 0, failed=True)
            raise SipError(f"cannot place the call to {c.uri}: {msg}") from None
        return c.call_id

    def _do_hangup(self, c: cmds.Hangup) -> bool:
        leg = self._get_leg(c.call_id)
        if leg.ended or leg.pj_call is None:
            return False
        leg.end_reason = leg.end_reason or c.reason
        prm = pj.CallOpParam()
        if leg.direction == "inbound" and leg.state != "answered":
            prm.statusCode = pj.PJSIP_SC_DECLINE
        leg.pj_call.hangup(prm)
        return True

    def _do_send_dtmf(self, c: cmds.SendDtmf) -> Future:
        leg = self._get_leg(c.call_id)
        if leg.state != "answered":
            raise SipError(f"call {c.call_id} is not connected; digits can only go to an "
                           "answered call")
        spacing = self.settings.dtmf_spacing if c.spacing is None else c.spacing
        steps = plan_digits(c.digits, spacing, self.settings.dtmf_pause)
        method = DtmfMethod(c.method) if c.method else None
        done: Future = Future()
        sent: list[tuple[str, str]] = []

        def step(i: int) -> None:
            if leg.ended:
                done.set_exception(SipError(f"call {c.call_id} ended while sending digits"))
                return
            if i >= len(steps):
                done.set_result(sent)
                return
            s = steps[i]
            wait = s.wait_after
            if s.digit is not None:
                sent_at = time.time()  # stamped before the key leaves, for true latency
                used = self._send_one_digit(leg, s.digit, method or leg.dtmf_method)
                sent.append((s.digit, used.value))
                if used is DtmfMethod.INBAND:
                    wait += INBAND_TONE_S
                shown, sequence = (("\u2022", "\u2022" * len(c.digits)) if c.private
                                   else (s.digit, c.digits))
                self.bus.publish(Event(EventType.IVR_DTMF_SENT, leg.call_id, timestamp=sent_at,
                                       data={"digits": shown, "method": used.value,
                                             "sequence": sequence, "index": i,
                                             "private": c.private, "source": c.source}))
            self._later(wait, lambda: step(i + 1))

        step(0)
        return done

    def _send_one_digit(self, leg: CallLeg, digit: str, method: DtmfMethod) -> DtmfMethod:
        call = leg.pj_call
        if method is DtmfMethod.RFC2833:
            try:
                call.dialDtmf(digit)
                return method
            except pj.Error as exc:
                if exc.status != PJMEDIA_RTP_EREMNORFC2833 and \
                        "EREMNORFC2833" not in pj_message(exc):
                    raise
                log.info("call %s: far end has no telephone-event; switching to in-band DTMF",
                         leg.call_id)
                leg.dtmf_method = DtmfMethod.INBAND
                self._snapshot(leg)
                method = DtmfMethod.INBAND
        if method is DtmfMethod.INFO:
            prm = pj.CallSendDtmfParam()
            prm.digits = digit
            prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
            prm.duration = 160
            call.sendDtmf(prm)
            return method
        leg.source.enqueue(tone(digit))
        return DtmfMethod.INBAND

    def _do_play_file(self, c: cmds.PlayFile) -> bool:
        self.play_file(c.call_id, c.path)
        return True

    def _do_stop_audio(self, c: cmds.StopAudio) -> bool:
        self.stop_audio(c.call_id)
        return True

    def _do_bridge(self, c: cmds.Bridge) -> bool:
        a, b = self._get_leg(c.call_a), self._get_leg(c.call_b)
        if a.audio is None or b.audio is None:
            raise SipError("both calls need connected audio before they can be bridged")
        a.bridged.add(b.call_id)
        b.bridged.add(a.call_id)
        self._link(a, b)
        return True

    def _do_unbridge(self, c: cmds.Unbridge) -> bool:
        a, b = self._get_leg(c.call_a), self._get_leg(c.call_b)
        a.bridged.discard(b.call_id)
        b.bridged.discard(a.call_id)
        if a.audio is not None and b.audio is not None:
            a.audio.stopTransmit(b.audio)
            b.audio.stopTransmit(a.audio)
        return True

    def _do_transfer(self, c: cmds.Transfer) -> bool:
        leg = self._get_leg(c.call_id)
        if leg.state != "answered":
            raise SipError(f"call {c.call_id} is not connected; cannot transfer it")
        leg.meta["transfer_target"] = c.uri
        self.bus.emit(EventType.TRANSFER_STARTED, leg.call_id, target=c.uri, mode="refer")
        leg.pj_call.xfer(c.uri, pj.CallOpParam(True))
        return True

    def _do_list_calls(self, c: cmds.ListCalls) -> list[dict[str, Any]]:
        return [dataclasses.asdict(s) for s in self.calls()]

    def _get_leg(self, call_id: str) -> CallLeg:
        leg = self._legs.get(call_id)
        if leg is None:
            raise SipError(f"no call {call_id}")
        return leg

    # ------------------------------------------------------------------ pjsua2 callbacks
    def _on_call_state(self, call_id: str) -> None:
        leg = self._legs.get(call_id)
        if leg is None or leg.pj_call is None:
            return
        ci = leg.pj_call.getInfo()
        code, st = int(ci.lastStatusCode), ci.state
        if st == pj.PJSIP_INV_STATE_EARLY and leg.direction == "outbound":
            # early media is audio before the answer: an 18x with SDP (180 or 183); a 183
            # without SDP is only progress, reported like ringing. Its SDP is applied just
            # after this callback, so a 183 waits a moment to tell which it was.
            if not self._early_media(leg, ci):
                if code == 180:
                    self._progress(leg, code)
                elif code == 183:
                    self._later(0.3, lambda: self._progress(leg, code))
        elif st == pj.PJSIP_INV_STATE_CONFIRMED and leg.state != "answered":
            leg.state = "answered"
            leg.answered_at = time.time()
            leg.rx_changed_at = time.monotonic()
            self.bus.emit(EventType.CALL_ANSWERED, call_id, sip_code=code,
                          remote=str(ci.remoteUri))
        elif st == pj.PJSIP_INV_STATE_DISCONNECTED:
            answered, why = leg.answered_at is not None, str(ci.lastReason)
            tls = needs_tls(leg.uri) or self.settings.transport == "tls"
            reason = (leg.end_reason
                      or describe_secure_failure(code, why, tls=tls, srtp=self.settings.srtp,
                                                 answered=answered)
                      or describe_sip_status(code, why, answered=answered))
            self._finish(leg, reason, code, failed=leg.answered_at is None)
            return
        self._snapshot(leg)

    def _finish(self, leg: CallLeg, reason: str, code: int, failed: bool) -> None:
        if leg.ended:
            return
        leg.ended = True
        leg.state = "ended"
        self._snapshot(leg)
        duration = round(time.time() - leg.answered_at, 3) if leg.answered_at else 0.0
        if failed:
            self.bus.emit(EventType.CALL_FAILED, leg.call_id, reason=reason, sip_code=code)
        got, lost = max(leg.rx_pkts, 0), leg.rx_lost
        self.bus.emit(EventType.CALL_ENDED, leg.call_id, reason=reason, sip_code=code,
                      duration=duration, answered=leg.answered_at is not None,
                      rx_packets=got, rx_lost=lost, rx_loss_pct=loss_pct(got, lost),
                      codec=leg.codec)
        self._later(0.0, lambda: self._cleanup(leg))

    def _cleanup(self, leg: CallLeg) -> None:
        """Drop the leg's pjsua2 objects, outside any pjsua2 callback."""
        for other_id in list(leg.bridged):
            other = self._legs.get(other_id)
            if other:
                other.bridged.discard(leg.call_id)
        self._disconnect_media(leg)
        leg.pj_call = None
        leg.source.clear()
        leg.remote_tap.close()
        leg.local_tap.close()
        self._legs.pop(leg.call_id, None)
        with self._lock:
            self._taps.pop((leg.call_id, "remote"), None)
            self._taps.pop((leg.call_id, "local"), None)
            self._sources.pop(leg.call_id, None)
            self._snapshots.pop(leg.call_id, None)
        if not self._legs:
            gc_pause.sweep_when_idle()

    def _on_call_media_state(self, call_id: str) -> None:
        leg = self._legs.get(call_id)
        if leg is None or leg.pj_call is None:
            return
        ci = leg.pj_call.getInfo()
        for mi in ci.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status in (
                pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD
            ):
                audio = leg.pj_call.getAudioMedia(mi.index)
                self._connect_media(leg, audio, int(mi.audioConfSlot))
                with contextlib.suppress(pj.Error):
                    si = leg.pj_call.getStreamInfo(mi.index)
                    leg.media_proto = _MEDIA_PROTO.get(int(si.proto), str(si.proto))
                    leg.codec = f"{si.codecName}/{si.codecClockRate}"
                    self._snapshot(leg)
                break
        if ci.state == pj.PJSIP_INV_STATE_EARLY and leg.direction == "outbound":
            self._early_media(leg, ci)

    def _progress(self, leg: CallLeg, code: int) -> None:
        if leg.notified_ringing or leg.notified_early or leg.ended or leg.answered_at:
            return
        leg.notified_ringing = True
        leg.state = "ringing"
        self.bus.emit(EventType.CALL_RINGING, leg.call_id, sip_code=code)
        self._snapshot(leg)

    def _early_media(self, leg: CallLeg, ci: Any) -> bool:
        """CALL_EARLY_MEDIA once, when audio flows before the answer (an 18x with SDP); its
        tap already carries that audio (announcements, "the number you dialled...")."""
        active = any(mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                     for mi in ci.media)  # fmt: skip
        if active and not leg.notified_early:
            leg.notified_early = True
            leg.state = "early_media"
            self.bus.emit(EventType.CALL_EARLY_MEDIA, leg.call_id,
                          sip_code=int(ci.lastStatusCode))
            self._snapshot(leg)
        return leg.notified_early

    def _on_transfer_status(self, call_id: str, code: int, reason: str, final: bool) -> None:
        leg = self._legs.get(call_id)
        if leg is None:
            return
        self.bus.emit(EventType.TRANSFER_STATUS, call_id, sip_code=code, reason=reason,
                      final=final, target=leg.meta.get("transfer_target", ""))
        if final and 200 <= code < 300 and not leg.ended:
            leg.end_reason = f"transferred to {leg.meta.get('transfer_target', '')}"
            self._later(0.0, lambda: self._do_hangup(cmds.Hangup(call_id, leg.end_reason)))

    def _on_transfer_request(self, call_id: str, target: str) -> PjCall | None:
        """The far end asked us (REFER) to call someone else: do it as a new tracked leg."""
        leg = self._legs.get(call_id)
        if leg is None:
            return None
        try:
            acc = self._direct_account_for(target)
        except SipError as exc:
            log.warning("call %s: cannot follow the transfer: %s", call_id, exc)
            return None
        new_id = self.new_call_id()
        self._prepare_media(new_id)
        new_leg = self._new_leg(new_id, target, "outbound", leg.dtmf_method.value,
                                {"transferred_from": call_id})
        new_leg.pj_call = PjCall(self, new_id, acc)
        self.bus.emit(EventType.CALL_STARTED, new_id, uri=target, direction="outbound",
                      transferred_from=call_id)
        return new_leg.pj_call

    def _on_dtmf_received(self, call_id: str, digit: str, method: int) -> None:
        log.debug("call %s received DTMF %s (method %d)", call_id, digit, method)

    def _on_incoming_call(self, acc: PjAccount, pj_call_id: int) -> None:
        call_id = self.new_call_id()
        self._prepare_media(call_id)
        call = PjCall(self, call_id, acc, pj_call_id)
        ci = call.getInfo()
        leg = self._new_leg(call_id, str(ci.remoteUri), "inbound", None, {})
        leg.pj_call = call
        self.bus.emit(EventType.CALL_STARTED, call_id, uri=str(ci.remoteUri), direction="inbound")
        prm = pj.CallOpParam()
        prm.statusCode = 200 if self.auto_answer else 486
        if self.auto_answer:
            call.answer(prm)
        else:
            leg.end_reason = "incoming calls are not accepted"
            call.hangup(prm)

    def _on_reg_state(self, acc: PjAccount, code: int, reason: str, expiration: int) -> None:
        registered = 200 <= code < 300 and expiration > 0
        if registered:
            message = f"registered to {self.settings.registrar} as {self.settings.username}"
        else:
            message = describe_reg_failure(code, reason, self.settings.registrar)
        self._set_reg({"registered": registered, "code": code, "message": message,
                       "final": not registered and code >= 300})

    def _set_reg(self, state: dict[str, Any]) -> None:
        with self._lock:
            self._reg_state = state
        self._reg_event.set()
        self.bus.emit(EventType.REGISTRATION_STATE, "", **state)

    def _watchdog(self) -> None:
        """End calls whose far end vanished without a BYE (no RTP for rtp_timeout seconds);
        report each call's line quality (LINE_QUALITY) once a window."""
        now = time.monotonic()
        for leg in list(self._legs.values()):
            if leg.ended or leg.state != "answered" or leg.pj_call is None or leg.audio is None:
                continue
            try:
                rx = leg.pj_call.getStreamStat(0).rtcp.rxStat
                pkts, leg.rx_lost = int(rx.pkt), int(rx.loss)
                jitter_ms = rx.jitterUsec.last / 1000
            except pj.Error:
                continue
            report = leg.quality.update(now, pkts, leg.rx_lost, jitter_ms)
            if report is not None:
                self.bus.emit(EventType.LINE_QUALITY, leg.call_id, codec=leg.codec, **report)
            if pkts != leg.rx_pkts:
                leg.rx_pkts, leg.rx_changed_at = pkts, now
            elif now - leg.rx_changed_at >= self.settings.rtp_timeout:
                silent = now - leg.rx_changed_at
                leg.end_reason = (f"the far end went silent: no audio (RTP) for {silent:.0f} s, "
                                  "the line was probably lost")
                try:
                    self._do_hangup(cmds.Hangup(leg.call_id, leg.end_reason))
                except pj.Error:
                    self._finish(leg, leg.end_reason, 0, failed=False)

    # ------------------------------------------------------------------ teardown
    def _shutdown_pj(self) -> None:
        try:
            for leg in list(self._legs.values()):
                if not leg.ended and leg.pj_call is not None:
                    leg.end_reason = leg.end_reason or "Hold Slayer is shutting down"
                    try:
                        self._do_hangup(cmds.Hangup(leg.call_id, leg.end_reason))
                    except pj.Error:
                        pass
            deadline = time.monotonic() + 2.0
            while any(not leg.ended for leg in self._legs.values()) and \
                    time.monotonic() < deadline:
                self._ep.libHandleEvents(20)
                self._run_timers()
            for leg in list(self._legs.values()):
                if not leg.ended:
                    self._finish(leg, leg.end_reason or "Hold Slayer is shutting down", 0,
                                 failed=leg.answered_at is None)
            self._timers.clear()
            for leg in list(self._legs.values()):
                self._cleanup(leg)
            while True:  # fail the commands nobody will run
                try:
                    _, fut = self._commands.get_nowait()
                except queue.Empty:
                    break
                if fut.set_running_or_notify_cancel():
                    fut.set_exception(SipError("the SIP engine stopped"))
        finally:
            self._destroy_pj()

    def _destroy_pj(self) -> None:
        abandon_forever(self._ports.abandon())
        for acc in (self._trunk_acc, self._sips_acc, self._direct_acc):
            if acc is not None:
                try:
                    acc.shutdown()
                except pj.Error:
                    pass
        self._trunk_acc = self._sips_acc = self._direct_acc = None
        gc_pause.sweep_when_idle()  # thawed too: no pj object may outlive libDestroy
        if self._ep is not None:
            try:
                self._ep.libDestroy()
            except pj.Error:
                pass
            self._ep = None


def _transport_param(transport: str) -> str:
    """The URI parameter that makes pjsip use the configured transport (UDP is its default)."""
    return "" if transport == "udp" else f";transport={transport}"


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """pjlib's start-up banner: to stderr when pjsua2 logging is asked for, else nowhere."""
    sys.stdout.flush()
    saved = os.dup(1)
    if os.environ.get("HOLDSLAYER_PJ_LOG"):
        os.dup2(2, 1)
    else:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _chain(src: Future, dst: Future) -> None:
    if dst.done():
        return
    exc = src.exception()
    if exc is not None:
        dst.set_exception(exc)
    else:
        dst.set_result(src.result())
