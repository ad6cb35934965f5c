"""First run (no config file yet): say what Hold Slayer does and offer the demo companies, so
a new user makes a real call in two keystrokes before configuring anything."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Markdown, OptionList
from textual.widgets.option_list import Option

from holdslayer_tui.company_choices import Choice

WELCOME = """\
# Welcome to Hold Slayer

It phones a company for you, works the phone menu, waits on hold, and alerts you
the moment a person answers.

Nothing is configured yet, so you are in **demo mode**: call one of the bundled
simulated companies below (no phone line needed), or open **Settings** to add
your SIP trunk.
"""

SETTINGS = "settings"
LOOK_AROUND = "look-around"


class WelcomeScreen(ModalScreen[str | None]):
    """Dismisses with a demo target, ``"settings"``, or None."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close", id="close-welcome")]

    def __init__(self, demos: list[Choice]) -> None:
        super().__init__()
        self.demos = demos

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Markdown(WELCOME)
            yield OptionList(
                *[Option(f"Call {c.label}", id=c.target) for c in self.demos],
                Option("Set up my SIP trunk (Settings)", id=SETTINGS),
                Option("Just look around", id=LOOK_AROUND),
                id="welcome-options",
            )

    def on_mount(self) -> None:
        self.query_one("#welcome-options", OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(None if event.option.id == LOOK_AROUND else event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
