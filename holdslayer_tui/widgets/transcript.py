"""The call's transcript, wrapped to the panel and re-wrapped when the terminal resizes.

Textual's ``RichLog`` wraps each line once, at write time, to at least 78 columns: in a
36-column panel (80×24) the ends of sentences were cut off, and a resize never re-flowed them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

MAX_LINES = 500


class Transcript(VerticalScroll, can_focus=True):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", classes="transcript-body")

    def extend(self, lines: list[str]) -> None:
        """Add lines (already quoted or marked); follow the newest unless scrolled up."""
        if not lines:
            return
        self.lines = (self.lines + lines)[-MAX_LINES:]
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.query_one(".transcript-body", Static).update(Text("\n".join(self.lines)))
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)
