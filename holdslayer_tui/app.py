"""The Hold Slayer terminal app.

The engine starts in a thread worker; its events come back as messages (the bus thread only
posts), audio levels through a snapshot the live screen polls at 20 Hz. The UI thread never
waits on SIP, audio or the database. Quitting with calls live asks first, hangs them up (bounded
wait) and exits; the engine is torn down after the screen is given back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from engine.config import ConfigError, Settings, config_path, load_settings
from engine.events import Event, EventType
from engine.notify.messages import HANG_UP, SHOW_CALL, TAKE_CALL
from holdslayer_tui.call_book import HANDED_OVER, YOU_SAID, CallBook, CallView
from holdslayer_tui.call_queue import CallQueue
from holdslayer_tui.company_choices import demo_choices
from holdslayer_tui.engine_link import EngineLink, RuntimeFactory, real_runtime_factory
from holdslayer_tui.formatting import clock as hms
from holdslayer_tui.handover import HandoverDesk
from holdslayer_tui.local_audio import LocalAudio
from holdslayer_tui.messages import (
    CallNotPlaced,
    CallPlaced,
    CallsChanged,
    EngineEvent,
    HandoverLegPlaced,
    LocalAudioChanged,
    ReadyToExit,
    RuntimeFailed,
    RuntimeReady,
    SpeechFailed,
    SpeechQueued,
)
from holdslayer_tui.screens.analytics import AnalyticsScreen
from holdslayer_tui.screens.calls_queue import CallsScreen
from holdslayer_tui.screens.confirm import ConfirmScreen
from holdslayer_tui.screens.dial import DialScreen
from holdslayer_tui.screens.history import HistoryScreen
from holdslayer_tui.screens.live_call import LiveCallScreen
from holdslayer_tui.screens.settings import SettingsScreen
from holdslayer_tui.screens.welcome import SETTINGS, WelcomeScreen
from holdslayer_tui.terminal_alert import alert_sequence

KEEP_WARM_PROMPTS = (
    "/usr/share/asterisk/sounds/en/pls-hold-while-try.wav",
    "/usr/share/asterisk/sounds/en_US_f_Allison/pls-hold-while-try.wav",
)
KEEP_WARM_TEXT = "Please hold, I'm connecting you now."
HANG_UP_AGAIN_S = 4.0  # how long a first hang-up key press waits for the second
MAX_LIVE_CALLS = 3  # the simulator takes 4 at once; keep one line spare for a hand-over leg


def keep_warm_prompt() -> str | None:
    return next((p for p in KEEP_WARM_PROMPTS if os.path.exists(p)), None)


class HoldSlayerApp(App[int]):
    TITLE = "Hold Slayer"
    CSS_PATH = ["styles/app.tcss"]
    MODES = {
        "dial": DialScreen,
        "calls": CallsScreen,
        "history": HistoryScreen,
        "analytics": AnalyticsScreen,
        "settings": SettingsScreen,
    }
    DEFAULT_MODE = "dial"
    BINDINGS = [
        Binding("f2", "switch_mode('dial')", "Dial", id="go-dial", tooltip="Place a call"),
        Binding("f3", "switch_mode('calls')", "Calls", id="go-calls",
                tooltip="Live and queued calls"),
        Binding("f4", "switch_mode('history')", "History", id="go-history"),
        Binding("f5", "switch_mode('analytics')", "Stats", id="go-analytics"),
        Binding("f6", "switch_mode('settings')", "Settings", id="go-settings"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        runtime_factory: RuntimeFactory | None = None,
        clock: Callable[[], float] = time.time,
        first_run: bool = False,
        config_file: Path | None = None,
        max_live_calls: int = MAX_LIVE_CALLS,
        keymap: dict[str, str] | None = None,
        synthesize: Callable[[str], Any] | None = None,
        local_audio: LocalAudio | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.config_path = config_file
        self.clock = clock
        self.first_run = first_run
        self.max_live_calls = max_live_calls
        self.book = CallBook()
        self.queue = CallQueue()
        self.desk = HandoverDesk()
        self.link = EngineLink(runtime_factory or real_runtime_factory(self.settings),
                               self.post_message)
        self.engine_state = "starting"
        self.alerts: list[str] = []  # what the user was alerted about (tests read this)
        self._placing = 0
        self._open_next: set[str] = set()  # targets whose live screen opens when placed
        self._handover_legs: dict[str, str] = {}  # our phone's leg -> the company call
        self._quitting = False
        self.stop_engine_on_unmount = True
        self.exit_on_signals = False  # run_app: SIGHUP/SIGTERM hang up every call, then exit
        self._handover_targets: dict[str, str] = {}  # call target -> user's phone
        self._synthesize = synthesize
        self._keep_warm_pcm: Any = None  # synthesised once, reused for every hand-over
        self._hang_up_armed: tuple[str, float] | None = None  # (call, when its key was pressed)
        self._voice_lock = threading.Lock()
        self.local_audio = local_audio or LocalAudio()
        self._audio_warned = False
        self.terminal_writes: list[str] = []  # alert escapes written (tests read this)
        # users remap by binding id ({"hang-up": "x", "say": "ctrl+t"}); Settings has no
        # keymap field yet, so this reads one when it exists
        keymap = keymap if keymap is not None else getattr(self.settings, "keymap", None)
        if keymap:
            self.set_keymap(dict(keymap))

    # -- start-up -------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.sub_title = "starting the engine…"
        if self.exit_on_signals:
            self._exit_on_signals()
        self.start_engine()
        if self.first_run:
            self.push_screen(WelcomeScreen(demo_choices()), self._welcome_done)

    def _welcome_done(self, choice: str | None) -> None:
        if choice == SETTINGS:
            self.switch_mode("settings")
        elif choice:
            screen = self.screen
            if isinstance(screen, DialScreen):
                screen.prefill(choice)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False,
          description="start the call engine")
    def start_engine(self) -> None:
        try:
            self.link.start()
        except Exception as exc:
            self.post_message(RuntimeFailed(str(exc) or type(exc).__name__))
        else:
            self.post_message(RuntimeReady())

    @on(RuntimeReady)
    def _engine_ready(self) -> None:
        self.engine_state = "ready"
        self.sub_title = "demo mode" if self.settings.demo_mode else "ready"
        self.pump_queue()
        if self.settings.handover.mode == "local_audio":
            self.probe_local_audio()
        if self.settings.handover.mode != "none" and not keep_warm_prompt():
            self.warm_up_voice()

    @work(thread=True, group="local-audio", exit_on_error=False, description="find audio")
    def probe_local_audio(self) -> None:
        """Hand-over here is configured: say at start, not when a person is waiting."""
        if problem := self.local_audio.probe():
            self.post_message(LocalAudioChanged("", "probe", problem))

    @on(RuntimeFailed)
    def _engine_failed(self, message: RuntimeFailed) -> None:
        self.engine_state = "failed"
        self.sub_title = "engine failed"
        self.notify(message.error, title="The call engine did not start", severity="error",
                    timeout=30)

    # -- placing calls --------------------------------------------------------------------------
    def call_now(self, target: str, intent: str = "", company: str = "",
                 handover: str = "") -> None:
        self._open_next.add(target)
        if handover:
            self._handover_targets[target] = handover
        self.switch_mode("calls")
        self._place(target, intent, company)

    def add_to_queue(self, target: str, intent: str = "", company: str = "",
                     handover: str = "") -> None:
        self.queue.add(target, intent, company)
        if handover:
            self._handover_targets[target] = handover
        self.notify(f"Queued {company or target}.")
        self.pump_queue()
        self._changed("")

    def pump_queue(self) -> None:
        """Place queued calls while lines are free."""
        if self.engine_state != "ready" or self._quitting:
            return
        while len(self.book.live()) + self._placing < self.max_live_calls:
            entry = self.queue.pop_next()
            if entry is None:
                break
            self._place(entry.target, entry.intent, entry.company)
        self._changed("")

    def _place(self, target: str, intent: str, company: str) -> None:
        self._placing += 1
        self.place_call(target, intent, company)

    @work(thread=True, group="dial", exit_on_error=False, description="place a call")
    def place_call(self, target: str, intent: str, company: str) -> None:
        if not self.link.ready.wait(120):
            self.post_message(CallNotPlaced(target, "the call engine is not running"))
            return
        try:
            call_id = self.link.place_call(target, intent=intent, company=company)
        except Exception as exc:
            self.post_message(CallNotPlaced(target, str(exc) or type(exc).__name__))
        else:
            self.post_message(CallPlaced(call_id, target))

    @on(CallPlaced)
    def _placed(self, message: CallPlaced) -> None:
        self._placing = max(0, self._placing - 1)
        call = self.book.expect(message.call_id, self.clock(), target=message.target)
        call.handover_target = self._handover_targets.pop(message.target, "")
        if message.target in self._open_next:
            self._open_next.discard(message.target)
            self.open_call(message.call_id)
        self._changed(message.call_id)

    @on(CallNotPlaced)
    def _not_placed(self, message: CallNotPlaced) -> None:
        self._placing = max(0, self._placing - 1)
        self._open_next.discard(message.target)
        self.notify(message.error, title=f"Cannot call {message.target}", severity="error",
                    timeout=15)
        self.pump_queue()

    def open_call(self, call_id: str) -> None:
        if self.current_mode != "calls":
            self.switch_mode("calls")
        if isinstance(self.screen, LiveCallScreen):
            if self.screen.call_id == call_id:
                return
            self.pop_screen()
        self.push_screen(LiveCallScreen(call_id))

    def hang_up(self, call_id: str) -> None:
        self.link.hangup(call_id)

    def hang_up_by_key(self, call_id: str, key: str) -> None:
        """A hang-up key pressed once on an answered call only asks; pressed again within
        ``HANG_UP_AGAIN_S`` it hangs up. One stray key (a word typed on the wrong screen)
        must not throw away forty minutes on hold; a call still ringing goes at once."""
        call = self.book.get(call_id)
        now = self.clock()
        armed, self._hang_up_armed = self._hang_up_armed, None
        if (call is not None and call.live and call.answered_at is not None
                and (armed is None or armed[0] != call_id or now - armed[1] > HANG_UP_AGAIN_S)):
            self._hang_up_armed = (call_id, now)
            held = call.hold_seconds(now)
            lose = f" and your {hms(held)} on hold" if held >= 1 else ""
            self.notify(f"Press {key} again to hang up {call.title}{lose}.", title="Hang up?",
                        severity="warning", timeout=HANG_UP_AGAIN_S)
            return
        self.hang_up(call_id)

    # -- engine events --------------------------------------------------------------------------
    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        event = message.event
        if event.call_id in self._handover_legs:
            self._handover_leg_event(event.call_id, event.type)
            return
        if event.type == EventType.ENGINE_ERROR and not event.call_id:
            self.notify(str(event.data.get("message", "")), severity="warning", timeout=8)
            return
        if event.type == EventType.USER_ACTION:
            self._user_action(event)
            return
        call = self.book.apply(event)
        if call is None:
            return
        if event.type == EventType.HUMAN_DETECTED:
            self._person_answered(call)
        elif event.type == EventType.IVR_STEP and event.data.get("needs_input"):
            self._input_needed(call, str(event.data["needs_input"]))
        elif event.type == EventType.CALL_ENDED:
            self._call_ended(call)
        self._changed(call.call_id)

    def _user_action(self, event: Event) -> None:
        """The user answered an alert outside the app ("Take call" / "Hang up" on the desktop
        notification): the same as ``t`` / ``h`` on that call's screen. Clicking the
        notification itself opens that call's screen, ended or not."""
        call = self.book.get(event.call_id)
        action = event.data.get("action")
        if call is not None and action == SHOW_CALL:
            self.open_call(call.call_id)
            return
        if call is None or not call.live:
            return  # a stale button on a call that has already ended
        where = str(event.data.get("source") or "elsewhere")
        if action == TAKE_CALL:
            self.notify(f"Taking {call.title} (from the {where} notification).",
                        title="Hand-over")
            self.take_over(call.call_id)
        elif action == HANG_UP:
            self.notify(f"Hanging up {call.title} (from the {where} notification).",
                        title="Hang up")
            self.hang_up(call.call_id)

    def _changed(self, call_id: str) -> None:
        self.screen.post_message(CallsChanged(call_id))

    def _alert(self, text: str, title: str, toast: str, timeout: float) -> None:
        """Everything that reaches a user who is not looking: the bell, the terminal's own
        notification (OSC 9/777, over SSH too) and a toast."""
        self.alerts.append(text)
        self.bell()
        self._write_to_terminal(alert_sequence("Hold Slayer", text))
        self.notify(toast, title=title, severity="warning", timeout=timeout)

    def _person_answered(self, call: CallView) -> None:
        text = f"A person answered at {call.title}!"
        self._alert(text, "Pick up!", text, 15)
        self.take_over(call.call_id, auto=True)

    def _input_needed(self, call: CallView, field: str) -> None:
        """The menu asks for something only the user knows (an account number the profile
        lacks): as loud as a person answering, or the menu times out while the user is away
        (over SSH no desktop notification reaches them)."""
        name = field.replace("_", " ")
        text = f"{call.title} asks for your {name}: type it on its call screen now."
        self._alert(text, "The menu needs you",
                    f"{text} Add it in Settings (profile) for next time.", 20)

    def _write_to_terminal(self, sequence: str) -> None:
        """Straight to the terminal (the headless test driver discards it)."""
        self.terminal_writes.append(sequence)
        driver = getattr(self, "_driver", None)
        if driver is None:
            return
        with contextlib.suppress(Exception):
            driver.write(sequence)
            driver.flush()

    def _call_ended(self, call: CallView) -> None:
        if self.local_audio.is_active(call.call_id):
            self.release_local_audio(call.call_id)
        call.listening = False
        if call.call_id in (self.desk.active, *self.desk.waiting):
            nxt = self.desk.release(call.call_id)
            for leg, company_call in list(self._handover_legs.items()):
                if company_call == call.call_id:
                    self.link.hangup(leg)
            if nxt and (waiting := self.book.get(nxt)) is not None and waiting.live:
                self._hand_over(waiting)
        self.pump_queue()

    # -- hand-over ------------------------------------------------------------------------------
    def take_over(self, call_id: str, auto: bool = False) -> None:
        """Give the user this call now, or keep it warm while they are on another one.

        ``auto`` (a person just answered) only reserves the user when no hand-over route is
        configured: the alert has gone out and ``t`` completes it."""
        call = self.book.get(call_id)
        if call is None or not call.live or call.state == HANDED_OVER:
            return
        if self.desk.request(call_id) == "active":
            if auto and not self._handover_route(call)[1]:
                call.handover = "active"
            else:
                self._hand_over(call)
        else:
            call.handover = "waiting"
            self._keep_warm(call)
            active = self.book.get(self.desk.active or "")
            self.notify(f"{call.title} is kept warm until you finish with "
                        f"{active.title if active else 'your other call'}.",
                        title="Person waiting", severity="warning", timeout=15)
        self._changed(call_id)

    def _handover_route(self, call: CallView) -> tuple[str, str]:
        """(mode, target) for this call: its own phone target, else the settings."""
        mode, target = self.settings.handover.mode, self.settings.handover.target
        if call.handover_target and call.handover_target != target:
            return "phone", call.handover_target
        if mode == "phone" and target:
            return mode, target
        return mode, ""

    def _hand_over(self, call: CallView) -> None:
        call.handover = "active"
        call.state = HANDED_OVER
        mode, target = self._handover_route(call)
        if mode == "phone" and target:
            self._keep_warm(call)
            self.dial_handover_leg(call.call_id, target)
            self.notify(f"Calling your phone ({target}) for {call.title}…", title="Hand-over")
        else:
            # "local_audio", or nothing configured: this computer is the only way to talk
            self._keep_warm(call)
            self.start_local_audio(call.call_id, "talk")
        self._changed(call.call_id)

    def _keep_warm(self, call: CallView) -> None:
        """The agent hears "please hold" rather than dead air (and does not hang up): the
        recorded Asterisk prompt ("please hold while I try to connect you") when installed,
        else the same words synthesised."""
        if prompt := keep_warm_prompt():
            self.link.play_file(call.call_id, prompt)
        else:
            self.speak_keep_warm(call.call_id)

    def synthesize(self, text: str) -> Any:
        """16 kHz int16 speech (worker threads only: Piper takes ~0.3 s to load)."""
        if self._synthesize is None:
            from engine.speech.tts import synthesize

            self._synthesize = synthesize
        return self._synthesize(text)

    @work(thread=True, group="say", exit_on_error=False, description="please hold")
    def speak_keep_warm(self, call_id: str) -> None:
        try:
            pcm = self._keep_warm_speech()
        except Exception as exc:
            self.post_message(SpeechFailed(call_id, f"cannot say “please hold”: {exc}"))
            return
        self.link.play_pcm(call_id, pcm)

    def _keep_warm_speech(self) -> Any:
        with self._voice_lock:
            if self._keep_warm_pcm is None:
                self._keep_warm_pcm = self.synthesize(KEEP_WARM_TEXT)
            return self._keep_warm_pcm

    @work(thread=True, group="say", exit_on_error=False, description="load the voice")
    def warm_up_voice(self) -> None:
        """A hand-over is configured: have "please hold" ready before a person answers."""
        with contextlib.suppress(Exception):
            self._keep_warm_speech()

    # -- say something --------------------------------------------------------------------------
    @work(thread=True, group="say", exit_on_error=False, description="say something")
    def say(self, call_id: str, text: str) -> None:
        """Speak typed text into the call (the user is not on the line, the app is)."""
        try:
            pcm = self.synthesize(text)
        except Exception as exc:
            self.post_message(SpeechFailed(call_id, str(exc) or type(exc).__name__))
            return
        self.link.play_pcm(call_id, pcm)
        self.post_message(SpeechQueued(call_id, text))

    @on(SpeechQueued)
    def _speech_queued(self, message: SpeechQueued) -> None:
        call = self.book.get(message.call_id)
        if call is not None:
            call.transcript.append(YOU_SAID + message.text)
            self._changed(call.call_id)

    @on(SpeechFailed)
    def _speech_failed(self, message: SpeechFailed) -> None:
        self.notify(message.error, title="Could not speak", severity="error", timeout=10)

    # -- this computer's speaker and microphone -------------------------------------------------
    def toggle_listen(self, call_id: str) -> None:
        call = self.book.get(call_id)
        if call is None:
            return
        if call.listening:
            call.listening = False
            self.release_local_audio(call_id)
        elif not call.live:
            self.notify("The call has ended.", severity="warning")
        else:
            self.start_local_audio(call_id, "listen")
        self._changed(call_id)

    @work(thread=True, group="local-audio", exit_on_error=False, description="local audio")
    def start_local_audio(self, call_id: str, mode: str) -> None:
        try:
            tap = self.link.tap(call_id)
            if mode == "talk":
                self.local_audio.talk(call_id, tap, lambda pcm: self.link.play_pcm(call_id, pcm))
            else:
                self.local_audio.listen(call_id, tap)
        except Exception as exc:
            self.post_message(LocalAudioChanged(call_id, mode, str(exc) or type(exc).__name__))
        else:
            self.post_message(LocalAudioChanged(call_id, mode))

    @work(thread=True, group="local-audio", exit_on_error=False, description="local audio off")
    def release_local_audio(self, call_id: str) -> None:
        self.local_audio.stop(call_id)

    @on(LocalAudioChanged)
    def _local_audio_changed(self, message: LocalAudioChanged) -> None:
        call = self.book.get(message.call_id)
        if message.problem:
            self._local_audio_unavailable(message.problem, message.mode)
            return
        if call is not None:
            call.listening = True
            if message.mode == "talk":
                self.notify(f"{call.title} is on this computer's speaker and microphone.",
                            title="Hand-over")
            self._changed(call.call_id)

    def _local_audio_unavailable(self, problem: str, mode: str) -> None:
        """Explain once; later presses get a one-liner, never a pile of toasts."""
        if self._audio_warned:
            if mode == "listen":
                self.notify("No local audio here.", severity="warning", timeout=3)
            elif mode == "talk":
                self.notify("No sound device here to talk on: put your phone in Settings "
                            "(Hand over to), or type into the call with s.",
                            title="Cannot take the call here", severity="warning", timeout=12)
            return
        self._audio_warned = True
        self.notify(f"Local audio is unavailable: {problem}. Listening in (m) and hand-over "
                    "to this computer are off; hand-over to your phone (Settings) and the "
                    "alerts still work.", title="No sound device", severity="warning",
                    timeout=12)

    @work(thread=True, group="handover", exit_on_error=False, description="call the user")
    def dial_handover_leg(self, call_id: str, target: str) -> None:
        try:
            leg = self.link.place_handover_leg(call_id, target)
        except Exception as exc:
            self.post_message(CallNotPlaced(target, f"hand-over failed: {exc}"))
            return
        self.post_message(HandoverLegPlaced(leg, call_id))

    @on(HandoverLegPlaced)
    def _handover_leg_placed(self, message: HandoverLegPlaced) -> None:
        # the leg's own events may have overtaken this message: adopt what the book saw
        self._handover_legs[message.leg] = message.call_id
        seen = self.book.calls.pop(message.leg, None)
        if seen is not None and seen.answered_at is not None:
            self._handover_leg_event(message.leg, EventType.CALL_ANSWERED)
        if seen is not None and not seen.live:
            self._handover_leg_event(message.leg, EventType.CALL_ENDED)

    def _handover_leg_event(self, leg: str, type_: EventType) -> None:
        call_id = self._handover_legs[leg]
        if type_ == EventType.CALL_ANSWERED:
            self.link.bridge(call_id, leg)
            self.notify("You are connected.", title="Hand-over")
        elif type_ == EventType.CALL_ENDED:
            self._handover_legs.pop(leg, None)

    # -- quitting -------------------------------------------------------------------------------
    async def action_quit(self) -> None:
        live = [c.call_id for c in self.book.live()]
        if not live:
            self._shut_down([])
            return
        n = len(live)
        question = f"{n} call{'s are' if n > 1 else ' is'} live. Hang up and quit?"
        self.push_screen(ConfirmScreen(question, yes="Hang up and quit", no="Stay"),
                         lambda ok: self._shut_down(live) if ok else None)

    def _exit_on_signals(self) -> None:
        """A kill (SIGTERM) or a closed terminal (an SSH session that dropped: SIGHUP) ends
        every call with a BYE, not by the process vanishing: the company's side would keep a
        dead call up until its media timeout, and history would say "interrupted"."""
        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGTERM, self._terminated),
                             (signal.SIGHUP, self._terminal_gone)):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, handler)

    def _terminated(self) -> None:
        if not self._quitting:
            self._shut_down([c.call_id for c in self.book.live()])

    def _terminal_gone(self) -> None:
        """No terminal to restore or draw on (Textual's own exit then blocks writing to it):
        hang up, close the engine and the history, and leave at once."""
        self._quitting = True
        live = [c.call_id for c in self.book.live()]

        def finish() -> None:
            try:
                self.link.hang_up_all(live, timeout=1.5)
                self.link.stop()
            finally:
                os._exit(0)

        threading.Thread(target=finish, name="terminal-gone", daemon=True).start()

    def _shut_down(self, call_ids: list[str]) -> None:
        self._quitting = True
        self.queue.entries.clear()
        self.sub_title = "hanging up…" if call_ids else "closing…"
        self.hang_up_and_exit(call_ids)

    @work(thread=True, exclusive=True, group="shutdown", exit_on_error=False,
          description="hang up every call")
    def hang_up_and_exit(self, call_ids: list[str]) -> None:
        self.link.hang_up_all(call_ids, timeout=1.5)
        self.post_message(ReadyToExit())

    @on(ReadyToExit)
    def _ready_to_exit(self) -> None:
        self.exit(0)

    async def on_unmount(self) -> None:
        # run_app stops the engine after the terminal is given back (the user is not kept
        # staring at a frozen screen); embedded uses (tests) stop it here, off the UI thread
        await asyncio.to_thread(self.local_audio.close)
        if self.stop_engine_on_unmount:
            await asyncio.to_thread(self.link.stop)

    # -- command palette ------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Dial a call", "Call a company, number or SIP URI",
                            lambda: self.switch_mode("dial"))
        yield SystemCommand("Calls and queue", "Live and queued calls",
                            lambda: self.switch_mode("calls"))
        yield SystemCommand("History", "Past calls, search, details",
                            lambda: self.switch_mode("history"))
        yield SystemCommand("Analytics", "Success rate, hold times, best time to call",
                            lambda: self.switch_mode("analytics"))
        yield SystemCommand("Settings", "SIP trunk, hand-over, profile, alerts",
                            lambda: self.switch_mode("settings"))
        for choice in demo_choices():
            yield SystemCommand(f"Call {choice.label}", f"Dial {choice.target} now",
                                lambda t=choice.target, c=choice.company: self.call_now(t, "", c))
        if self.book.live():
            yield SystemCommand("Hang up all calls", "End every live call",
                                self._hang_up_all)

    def _hang_up_all(self) -> None:
        for call in self.book.live():
            self.link.hangup(call.call_id)


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="holdslayer", description="Hold Slayer's terminal app")
    p.add_argument("--demo-hold-seconds", type=float, default=None,
                   help="demo companies: make their hold this long")
    p.add_argument("--demo-log", type=Path, default=None,
                   help="demo companies: write the simulator's ground-truth logs to this dir")
    return p.parse_args(argv)


def run_app(argv: list[str] | None = None) -> int:
    args = _parse(list(argv or []))
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"holdslayer: {exc}", file=sys.stderr)
        return 2
    if args.demo_log:
        args.demo_log.mkdir(parents=True, exist_ok=True)
    path = config_path()
    app = HoldSlayerApp(
        settings,
        runtime_factory=real_runtime_factory(settings, args.demo_hold_seconds, args.demo_log),
        first_run=not path.exists(),
        config_file=path,
    )
    app.stop_engine_on_unmount = False
    app.exit_on_signals = True
    try:
        result = app.run()
    finally:
        app.link.stop()
    return int(result or 0) if app.return_code is None else app.return_code


