"""Dial: pick a demo company or a recent number, or type any number or SIP URI; say what you
want; choose who gets the call; start now or add to the queue."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.message import Message
from textual.widgets import Button, Footer, Header, Input, Label, OptionList
from textual.widgets.option_list import Option

from engine.sip.targets import InvalidTarget, parse_target
from holdslayer_tui.company_choices import Choice, demo_choices, history_choices
from holdslayer_tui.screens.base import HsScreen


class DialScreen(HsScreen):
    BINDINGS = [
        Binding("ctrl+o", "queue", "Add to queue", id="add-to-queue",
                tooltip="Queue the call; it starts when a line is free"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.choices: list[Choice] = []
        self._sent: tuple[str, int] | None = None  # (target, its calls then) until it is placed

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dial"):
            yield Label("Who to call — pick one, or type a number, sip: URI or demo:<company>",
                        id="dial-help")
            yield OptionList(id="companies")
            yield Input(placeholder="(800) 555-1234, sip:help@example.com or demo:acme_bank",
                        id="target", select_on_focus=False)  # typing on the list goes on here
            yield Input(placeholder="what you want, e.g. dispute a charge · Enter calls",
                        id="intent")
            yield Input(placeholder="hand over to: your phone (number or SIP URI); blank = here",
                        id="handover-target")
            with Horizontal(id="dial-buttons"):
                yield Button("Call now", variant="primary", id="call-now")
                yield Button("Add to queue", id="add-queue")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#companies", OptionList).border_title = "Companies"
        self.query_one("#handover-target", Input).value = self.hs.settings.handover.target
        self.load_choices()

    def on_screen_resume(self) -> None:
        self._clear_once_placed()
        self.load_choices()

    def _calls_to(self, target: str) -> int:
        return sum(c.target == target for c in self.hs.book.calls.values())

    def _clear_once_placed(self) -> None:
        """Back from a call that was placed, the form is empty for the next one (an old intent
        left there would be sent again with the next company). A call that could not be placed
        keeps what was typed, to mend and retry."""
        if self._sent is None or self._calls_to(self._sent[0]) <= self._sent[1]:
            return
        self._sent = None
        self.query_one("#target", Input).value = ""
        self.query_one("#intent", Input).value = ""

    @work(thread=True, exclusive=True, group="dial-choices", exit_on_error=False,
          description="read demo companies and recent numbers")
    def load_choices(self) -> None:
        self.post_message(self.ChoicesLoaded(demo_choices() + history_choices(self.hs.link.store)))

    class ChoicesLoaded(Message):
        def __init__(self, choices: list[Choice]) -> None:
            super().__init__()
            self.choices = choices

    @on(ChoicesLoaded)
    def _show_choices(self, message: ChoicesLoaded) -> None:
        choices = message.choices
        if choices == self.choices:
            return
        self.choices = choices
        options = self.query_one("#companies", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options([Option(c.label, id=c.target) for c in choices])
        if highlighted is not None and highlighted < len(choices):
            options.highlighted = highlighted

    def on_key(self, event: Key) -> None:
        """Typing on the company list starts a number: the list has the focus first, and a
        user who just types "1800..." or "demo:..." should not see nothing happen."""
        options = self.query_one("#companies", OptionList)
        ch = event.character
        if options.has_focus and ch and ch.isprintable() and not ch.isspace():
            event.stop()
            target = self.query_one("#target", Input)
            target.focus()
            target.insert_text_at_cursor(ch)

    def prefill(self, target: str) -> None:
        self.query_one("#target", Input).value = target
        self.query_one("#intent", Input).focus()

    @on(OptionList.OptionSelected, "#companies")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.prefill(event.option.id or "")

    def _choice_for(self, target: str) -> Choice | None:
        return next((c for c in self.choices if c.target == target), None)

    def _request(self) -> tuple[str, str, str, str] | None:
        target = self.query_one("#target", Input).value.strip()
        if not target:
            self.notify("Type a number or SIP URI, or pick a company first.", severity="warning")
            self.query_one("#target", Input).focus()
            return None
        problem = self._why_not(target)
        if problem:  # said now, with the form kept, not after it was cleared and queued
            self.notify(problem, title=f"Cannot call {target}", severity="error", timeout=10)
            self.query_one("#target", Input).focus()
            return None
        intent = self.query_one("#intent", Input).value.strip()
        handover = self.query_one("#handover-target", Input).value.strip()
        choice = self._choice_for(target)
        return target, intent, choice.company if choice else "", handover

    def _why_not(self, target: str) -> str:
        """What is wrong with a target, before it is dialled or queued ("" when nothing)."""
        try:
            parsed = parse_target(target, self.hs.settings.sip.default_country)
        except InvalidTarget as exc:
            return str(exc)
        demos = [c.target for c in self.choices if c.source == "demo"]
        if parsed.kind == "demo" and demos and f"demo:{parsed.value}" not in demos:
            return f"there is no demo company {parsed.value!r}: try " + ", ".join(demos)
        return ""

    @on(Input.Submitted, "#target")
    def _target_entered(self) -> None:
        """Enter after the number goes on to the intent: an intent typed next must not land on
        the live call screen, where its letters are keys (h hangs up, s speaks)."""
        intent = self.query_one("#intent", Input)
        if self.query_one("#target", Input).value.strip() and not intent.value.strip():
            intent.focus()
            return
        self.action_call_now()

    @on(Input.Submitted, "#intent, #handover-target")
    @on(Button.Pressed, "#call-now")
    def action_call_now(self) -> None:
        req = self._request()
        if req:
            self._sent = (req[0], self._calls_to(req[0]))
            self.hs.call_now(*req)

    @on(Button.Pressed, "#add-queue")
    def action_queue(self) -> None:
        req = self._request()
        if req:
            self.hs.add_to_queue(*req)
            self.query_one("#target", Input).value = ""
            self.query_one("#intent", Input).value = ""
            self.query_one("#target", Input).focus()
