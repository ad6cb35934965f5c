"""One call as it happens: state and hold timer, level meter, IVR tree and transcript, with
keys to hang up, press digits by hand, say something, take over and listen in.

Discrete changes arrive as ``CallsChanged``; the meter is redrawn from the level snapshot on
a 20 Hz timer (never one message per audio frame); the timers pause while the screen is
hidden (dolphie's pattern).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.widgets import Footer, Header, Input, Static

from engine.sip.line_quality import FAIR_JITTER_MS, FAIR_LOSS_PCT
from holdslayer_tui.call_book import PERSON, YOU_SAID, CallView
from holdslayer_tui.formatting import clock
from holdslayer_tui.messages import CallsChanged
from holdslayer_tui.screens.base import HsScreen
from holdslayer_tui.widgets.ivr_tree import IvrTree
from holdslayer_tui.widgets.level_meter import LevelMeter
from holdslayer_tui.widgets.transcript import Transcript

DIGITS = "0123456789*#"
DIGITS_HINT = "keys 0-9 * # are pressed on the call as you type them"
METER_HZ = 30  # polls the snapshot; redraws only when a new level arrived (analyzer: 25 Hz)


def line_trouble(call: CallView) -> str:
    """What makes the line worse than good: '10.6% lost, 72 ms jitter'."""
    why = [f"{call.line_loss_pct:g}% lost"] if call.line_loss_pct >= FAIR_LOSS_PCT else []
    if call.line_jitter_ms >= FAIR_JITTER_MS:
        why.append(f"{call.line_jitter_ms:.0f} ms jitter")
    return ", ".join(why)


def pack(parts: list[str], width: int, sep: str = "   ") -> str:
    """Parts on as few lines as ``width`` allows, broken only between parts: a status that
    wraps mid-part reads "callback offered: press" / "1"."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def status_line(call: CallView, now: float, width: int = 0) -> str:
    """The call's state and figures (``width``: the columns they must fit, 0 for one line)."""
    parts = [f"● {call.state_label}"]
    if call.state == PERSON:
        parts[0] += (" pick up — t takes the call" if call.handover == "active"
                     else " (kept warm)" if call.handover == "waiting" else "")
    if call.hold_started_at is not None or call.hold_total:
        parts.append(f"hold {clock(call.hold_seconds(now))}")
    parts.append(f"call {clock(call.elapsed(now))}")
    if call.queue_position is not None:
        parts.append(f"position {call.queue_position}")
    if call.wait_minutes is not None:
        parts.append(f"wait ~{call.wait_minutes:g} min")
    if call.callback_key and call.live:  # "?": offered, but its key was not heard
        parts.append("callback offered" + (f": press {call.callback_key}"
                                           if call.callback_key != "?" else ""))
    if call.handover == "waiting" and call.state != PERSON:
        parts.append("kept warm")
    if call.listening:
        parts.append("listening")
    if call.line_grade and call.live:
        parts.append(f"line {call.line_grade}")
    line = pack(parts, width) if width > 0 else "   ".join(parts)
    if call.state == PERSON and call.person_why:
        line += f"\nheard: {call.person_why}"
    if call.line_grade == "poor" and call.live:
        line += f"\npoor line ({line_trouble(call)}): words may be misheard; detection goes on"
    if call.end_reason and not call.live:
        line += f"\n{call.end_reason}"
    return line


class LiveCallScreen(HsScreen):
    BINDINGS = [
        Binding("h", "hang_up", "Hang up", id="hang-up", tooltip="End this call"),
        Binding("t", "take_over", "Take over", id="take-over",
                tooltip="Hand the call to you now"),
        Binding("s", "say", "Say", id="say",
                tooltip="Type something; it is spoken into the call"),
        Binding("m", "listen", "Listen", id="listen",
                tooltip="Hear the call on this computer's speaker (m again: mute)"),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, call_id: str) -> None:
        super().__init__()
        self.call_id = call_id
        self._transcript_shown = 0
        self.meter_updates = 0  # read by bench/bench_tui.py

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="live"):
            yield Static("", id="call-title")
            yield Static("", id="call-status")
            yield LevelMeter(id="meter")
            with Horizontal(id="live-panels"):
                yield IvrTree(id="ivr-tree")
                yield Transcript(id="transcript")
            yield Input(placeholder="say: type, Enter speaks it into the call, Esc cancels",
                        id="say-box", classes="hidden")
            yield Static(DIGITS_HINT, id="digits-hint")
        yield Footer()

    @property
    def call(self) -> CallView | None:
        return self.hs.book.get(self.call_id)

    def on_mount(self) -> None:
        self.query_one("#transcript", Transcript).border_title = "Transcript"
        self.query_one("#ivr-tree", IvrTree).border_title = "Menus"
        self.query_one("#meter", LevelMeter).border_title = "Audio"
        self._meter_timer = self.set_interval(1 / METER_HZ, self._tick_meter)
        self._clock_timer = self.set_interval(1.0, self._tick_clock)
        self.refresh_call()

    def on_screen_suspend(self) -> None:
        self._meter_timer.pause()
        self._clock_timer.pause()

    def on_screen_resume(self) -> None:
        self._meter_timer.resume()
        self._clock_timer.resume()
        self.refresh_call()

    @on(CallsChanged)
    def _on_calls_changed(self, message: CallsChanged) -> None:
        if message.call_id in ("", self.call_id):
            self.refresh_call()

    def refresh_call(self) -> None:
        call = self.call
        if call is None:
            return
        target = call.target if call.target and call.target != call.title else ""
        title = call.title + (f"  ({target})" if target else "")
        if call.intent:
            title += f"\nintent: {call.intent}"
        self.query_one("#call-title", Static).update(title)
        self.set_class(call.state == PERSON, "person")
        self.set_class(not call.live, "ended")
        self._tick_clock()
        self.query_one("#ivr-tree", IvrTree).show_call(call)
        new = call.transcript[self._transcript_shown:]
        if new:
            self.query_one("#transcript", Transcript).extend(
                [line if line.startswith(YOU_SAID) else f"“{line}”" for line in new])
            self._transcript_shown = len(call.transcript)

    def _tick_clock(self) -> None:
        call = self.call
        if call is not None:
            status = self.query_one("#call-status", Static)
            status.update(status_line(call, self.hs.clock(), status.content_size.width))

    def _tick_meter(self) -> None:
        levels = self.hs.link.levels
        level = levels.next_level(self.call_id)
        if level is None:
            return
        self.query_one("#meter", LevelMeter).show(level, levels.history(self.call_id))
        self.meter_updates += 1

    # -- keys ---------------------------------------------------------------------------------
    def on_key(self, event: Key) -> None:
        if event.character and event.character in DIGITS:
            event.stop()
            self.press(event.character)

    def press(self, digits: str) -> None:
        call = self.call
        if call is None or not call.live:
            self.notify("The call has ended.", severity="warning")
            return
        self.hs.link.send_digits(self.call_id, digits)

    def action_hang_up(self) -> None:
        self.hs.hang_up_by_key(self.call_id, self.key_for("hang-up"))

    def action_take_over(self) -> None:
        self.hs.take_over(self.call_id)

    def action_listen(self) -> None:
        self.hs.toggle_listen(self.call_id)
        self._tick_clock()

    def action_say(self) -> None:
        call = self.call
        if call is None or not call.live:
            self.notify("The call has ended.", severity="warning")
            return
        box = self.query_one("#say-box", Input)
        box.remove_class("hidden")
        self.query_one("#digits-hint").add_class("hidden")  # keys type words now
        box.focus()

    def _close_say_box(self) -> None:
        box = self.query_one("#say-box", Input)
        box.value = ""
        box.add_class("hidden")
        self.query_one("#digits-hint").remove_class("hidden")
        self.set_focus(None)

    @on(Input.Submitted, "#say-box")
    def _say_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        self._close_say_box()
        if text:
            self.hs.say(self.call_id, text)

    def action_back(self) -> None:
        if self.query_one("#say-box", Input).has_focus:
            self._close_say_box()
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
