"""Everything a running Hold Slayer needs, wired once: the event bus, the SIP engine,
history, notifications, recording, demo companies and per-call audio analysis.

The headless CLI and the TUI both build a :class:`Runtime`, so a call placed from either
behaves the same; a later headless service will too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

from engine.audio.analysis_loop import AnalysisLoop
from engine.config import Settings
from engine.demo import DemoCompany, demo_name, with_demo_profile
from engine.events import Event, EventBus, EventType
from engine.recording import RecordingService
from engine.sip.engine import SipEngine, SipError
from engine.sip.targets import Target, parse_target

log = logging.getLogger(__name__)

EARS_WAIT_S = 30.0  # a first call waits this long at most for the analysis models


class Runtime:
    def __init__(self, settings: Settings, *, history: bool = True, notify: bool = True,
                 analyze: bool = True, bus: EventBus | None = None,
                 demo_hold_seconds: float | None = None,
                 demo_log_dir: Path | None = None) -> None:
        self.settings = settings
        self.bus = bus or EventBus()
        self.engine = SipEngine(self.bus, settings.sip)
        self.recordings = RecordingService(self.engine, self.bus, settings.recordings_dir(),
                                           settings.recording.max_recording_seconds)
        self.demo_hold_seconds = demo_hold_seconds
        self.demo_log_dir = demo_log_dir
        self._demos: dict[str, DemoCompany] = {}
        self._want_history, self._want_notify, self._want_analyze = history, notify, analyze
        self.store: Any = None
        self._closers: list[Any] = []
        self._analyzers: dict[str, Any] = {}
        self._analysis = AnalysisLoop()  # one thread feeds every call's analyzer
        self._analysis_done: dict[str, threading.Event] = {}  # set once its last words are out
        self._navigators: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._end_sub = None
        self._dtmf_sub = None
        self._ears: threading.Thread | None = None  # loads the analysis models: warm_ears

    def start(self) -> Runtime:
        self.engine.start()
        self.warm_ears()
        if self.settings.sip.registrar:
            self.bus.emit(EventType.REGISTRATION_STATE, "", registered=False, code=0,
                          message=f"registering to {self.settings.sip.registrar}")
        if self._want_history:
            self._start_history()
        if self._want_notify:
            self._start_notifier()
        self._end_sub = self.bus.subscribe(self._on_call_end, types=[EventType.CALL_ENDED])
        self._dtmf_sub = self.bus.subscribe(self._on_dtmf, types=[EventType.IVR_DTMF_SENT])
        return self

    def _start_history(self) -> None:
        try:
            from engine.store.database import HistoryStore
            from engine.store.recorder import HistoryRecorder

            self.store = HistoryStore()
            self._closers.append(HistoryRecorder(self.bus, self.store))
        except Exception as exc:  # history is a side service: a call still works without it
            log.warning("call history is unavailable: %s", exc)
            self.bus.emit(EventType.ENGINE_ERROR, "", service="history",
                          message=f"call history is unavailable: {exc}")

    def _start_notifier(self) -> None:
        notify = self.settings.notify
        if notify.desktop.enabled and not (
            os.environ.get("DBUS_SESSION_BUS_ADDRESS") or os.environ.get("DISPLAY")
        ):
            # over SSH with no session bus: say so once, instead of failing on every alert
            notify = notify.model_copy(
                update={"desktop": notify.desktop.model_copy(update={"enabled": False})})
            self.bus.emit(EventType.ENGINE_ERROR, "", service="notify",
                          message="no desktop session (D-Bus): desktop notifications are off; "
                          "the terminal bell and other configured channels still work")
        logging.getLogger("desktop_notifier").setLevel(logging.ERROR)
        try:
            from engine.notify.service import Notifier

            self._closers.insert(0, Notifier(self.bus, notify, store=self.store))
        except Exception as exc:
            log.warning("notifications are unavailable: %s", exc)
            self.bus.emit(EventType.ENGINE_ERROR, "", service="notify",
                          message=f"notifications are unavailable: {exc}")

    def warm_ears(self, wait_s: float = 0.0) -> None:
        """Load the models a call's analysis uses, on a thread of its own, once; wait up to
        ``wait_s`` for them. ``place_call`` waits, so that no load holds the GIL while a line
        is live (``engine.audio.analyzer.warm_up`` says why that matters)."""
        if not self._want_analyze:
            return
        with self._lock:
            if self._ears is None:
                self._ears = threading.Thread(target=self._load_ears, name="warm-ears",
                                              daemon=True)
                self._ears.start()
        self._ears.join(wait_s)

    def _load_ears(self) -> None:
        try:
            from engine.audio.analyzer import AnalyzerSettings, warm_up

            warm_up(AnalyzerSettings(voice_prints=self.settings.detection.voice_prints))
        except Exception as exc:  # each call's analyzer reports what it lacks
            log.warning("the analysis models did not load ahead of the call: %s", exc)

    # ------------------------------------------------------------------ calls
    def resolve(self, target: str | Target) -> tuple[str, bool, Target]:
        """(SIP URI, via trunk, parsed target); starts a demo company when asked for one."""
        t = parse_target(target, self.settings.sip.default_country) \
            if isinstance(target, str) else target
        if t.kind == "demo":
            return self.demo(t.value).uri, False, t
        uri, via_trunk = self.engine.resolve(t)
        return uri, via_trunk, t

    def running_demo(self, company: str) -> DemoCompany | None:
        """The demo company this runtime started, if any (its log and stderr tell a test why
        a call went wrong)."""
        with self._lock:
            return self._demos.get(company)

    def demo(self, company: str) -> DemoCompany:
        with self._lock:
            demo = self._demos.get(company)
            if demo is None or demo.proc is None or demo.proc.poll() is not None:
                log_path = None
                if self.demo_log_dir:
                    log_path = self.demo_log_dir / f"simulator_{company}.jsonl"
                demo = DemoCompany(company, log_path=log_path,
                                   hold_seconds=self.demo_hold_seconds).start()
                self._demos[company] = demo
            return demo

    def place_call(self, target: str | Target, *, intent: str = "", company: str = "",
                   record: bool | None = None, dtmf_method: str | None = None,
                   navigate: bool = True) -> str:
        """Dial ``target``; with an ``intent`` the IVR navigator works the phone menu."""
        uri, via_trunk, t = self.resolve(target)
        company = company or (demo_name(t.value) if t.kind == "demo" else "")
        self.warm_ears(EARS_WAIT_S)
        call_id = self.engine.prepare_call()
        if self._want_analyze:
            self._start_analyzer(call_id, company or t.value)  # memory per company or number
        if intent and navigate:
            self._start_navigator(call_id, intent, company or t.value,
                                  with_demo_profile(self.settings, company)
                                  if t.kind == "demo" else self.settings)
        try:
            self.engine.dial(uri, call_id=call_id, via_trunk=via_trunk, dtmf_method=dtmf_method,
                             target=t.original, number=t.value if t.kind == "tel" else "",
                             company=company, intent=intent)
        except Exception:
            self._forget(call_id)
            raise
        if record if record is not None else self.settings.recording.enabled:
            self.recordings.start_recording(call_id)
        return call_id

    def place_handover_leg(self, call_id: str, target: str) -> str:
        """Ring the user's phone for ``call_id``: a leg with no menu to work, no audio to
        judge and no history row of its own (history shows it as the call's transfer).
        Bridge the two with ``engine.bridge`` once the leg is answered."""
        uri, via_trunk, t = self.resolve(target)
        leg = self.engine.prepare_call()
        self.bus.emit(EventType.TRANSFER_STARTED, call_id, target=t.original, mode="bridge",
                      leg=leg)
        self.engine.dial(uri, call_id=leg, via_trunk=via_trunk, handover_for=call_id,
                         target=t.original)
        return leg

    def _start_analyzer(self, call_id: str, company: str) -> None:
        try:
            from engine.audio.analyzer import AnalyzerSettings, CallAudioAnalyzer
        except ImportError:
            return
        from engine.audio import memory_store

        try:
            # announcements this company played on earlier calls never alarm again
            say = None
            if self.settings.detection.liveness_check:
                from engine.speech.tts import cached_phrase

                def say(text: str) -> object:
                    return self.engine.play_pcm(call_id, cached_phrase(text))
            settings = AnalyzerSettings(voice_prints=self.settings.detection.voice_prints)
            analyzer = CallAudioAnalyzer(self.bus, call_id, settings,
                                         memory=memory_store.load(company), say=say,
                                         names=[company])
        except Exception as exc:
            log.warning("audio analysis unavailable for call %s: %s", call_id, exc)
            return
        sub = self.engine.tap(call_id, "remote").subscribe(maxframes=1500)
        done = self._analysis_done[call_id] = threading.Event()

        def finish() -> None:  # on a thread of its own: close() waits for the last words
            with contextlib.suppress(Exception):
                analyzer.close()
            with contextlib.suppress(Exception):
                memory_store.save(company, analyzer.memory)
            done.set()
            self._analysis_done.pop(call_id, None)

        self._analysis.add(call_id, analyzer, sub, finish)
        self._analyzers[call_id] = analyzer

    def wait_analysis(self, call_id: str, timeout: float = 8.0) -> bool:
        """Wait until an ended call's analysis is done: the words heard as it ended (the
        balance read out before the company hung up) are published after CALL_ENDED."""
        done = self._analysis_done.get(call_id)
        return done is None or done.wait(timeout)

    def _start_navigator(self, call_id: str, intent: str, company: str,
                         settings: Settings) -> None:
        """The navigator is a side service: if it cannot start, the call goes on by hand."""
        try:
            from engine.ivr import start_navigator

            session = start_navigator(self, self.bus, call_id, intent, company, settings)
        except Exception as exc:
            log.warning("IVR navigation unavailable for call %s: %s", call_id, exc)
            self.bus.emit(EventType.ENGINE_ERROR, call_id, service="ivr",
                          message=f"automatic menu navigation is off for this call: {exc}")
            return
        if session is not None:
            self._navigators[call_id] = session

    def _on_dtmf(self, event: Event) -> None:
        """A key pressed by hand means the user is working the menu: navigation steps aside."""
        if event.data.get("source", "user") == "navigator":
            return
        if getattr(self._navigators.get(event.call_id), "awaiting_user", ""):
            return  # the account number the menu asked the user for: navigation goes on
        session = self._navigators.pop(event.call_id, None)
        if session is not None:
            with contextlib.suppress(Exception):
                session.stop()
            self.bus.emit(EventType.IVR_STEP, event.call_id, chosen="", options=[],
                          reason="you pressed a key: automatic menu navigation stopped")

    def _on_call_end(self, event: Event) -> None:
        self._forget(event.call_id)

    def _forget(self, call_id: str) -> None:
        """Stop what served a call: after it ended, or when it could not be dialled at all
        (then its reserved taps are closed, which also ends its analyzer)."""
        self._analyzers.pop(call_id, None)
        session = self._navigators.pop(call_id, None)
        if session is not None:
            with contextlib.suppress(Exception):
                session.stop()
        self.engine.discard_prepared(call_id)

    def hangup(self, call_id: str) -> None:
        with contextlib.suppress(SipError):
            self.engine.hangup(call_id).result(5)

    # ------------------------------------------------------------------ shutdown
    def stop(self) -> None:
        """Hang up and tear down; demo companies shut down in parallel with the engine."""
        self.recordings.stop_all()
        for demo in self._demos.values():
            demo.terminate()
        self.engine.stop()
        for sub in (self._end_sub, self._dtmf_sub):
            if sub:
                sub.close()
        for closer in self._closers:
            with contextlib.suppress(Exception):
                closer.close()
        for demo in self._demos.values():
            demo.stop()
        self._demos.clear()

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

