"""History: every call with company, number, intent, outcome, hold time and duration; search
as you type; open one to see its IVR path, transcript, recordings and notifications.
All reads run in a worker: the UI thread never waits on the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Input, Static

from engine.sip.line_quality import summary
from engine.store.models import so_far
from holdslayer_tui.formatting import clock, cut, outcome, when
from holdslayer_tui.screens.base import HsScreen

COLUMNS = ("Started", "Company", "Number", "Intent", "Outcome", "Hold", "Total")
# below this many columns of terminal the number goes (it is in the call's detail) and the
# longer texts are cut, so the table fits an 80x24 SSH session without scrolling sideways
WIDE = 110


class HistoryLoaded(Message):
    def __init__(self, calls: list[dict[str, Any]] | None, error: str = "") -> None:
        super().__init__()
        self.calls = calls
        self.error = error


class CallLoaded(Message):
    def __init__(self, call: dict[str, Any] | None) -> None:
        super().__init__()
        self.call = call


class HistoryScreen(HsScreen):
    BINDINGS = [
        Binding("ctrl+f", "search", "Search", id="history-search"),
        Binding("ctrl+r", "reload", "Reload", id="history-reload"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search company, number, intent, what was said…",
                    id="history-search-box")
        yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="history-status")
        yield Footer()

    _calls: Sequence[dict[str, Any]] = ()
    _wide: bool | None = None  # the columns shown: None until first filled

    def on_mount(self) -> None:
        self.action_reload()

    def on_resize(self) -> None:
        if (self.size.width >= WIDE) != self._wide:
            self._fill()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_search(self) -> None:
        self.query_one("#history-search-box", Input).focus()

    def action_reload(self) -> None:
        self.load(self.query_one("#history-search-box", Input).value)

    @on(Input.Changed, "#history-search-box")
    def _search_changed(self, event: Input.Changed) -> None:
        self.load(event.value)

    @on(Input.Submitted, "#history-search-box")
    def _search_submitted(self) -> None:
        self.query_one("#history-table", DataTable).focus()

    @work(thread=True, exclusive=True, group="history", exit_on_error=False,
          description="read call history")
    def load(self, search: str) -> None:
        store = self.hs.link.store
        if store is None:
            self.post_message(HistoryLoaded(None, "history is not available yet"))
            return
        try:
            calls = store.list_calls(limit=500, search=search.strip() or None)
        except Exception as exc:
            self.post_message(HistoryLoaded(None, f"cannot read history: {exc}"))
            return
        self.post_message(HistoryLoaded(calls))

    @on(HistoryLoaded)
    def _show(self, message: HistoryLoaded) -> None:
        status = self.query_one("#history-status", Static)
        if message.calls is None:
            status.update(message.error)
            return
        self._calls = message.calls
        self._fill()
        n = len(message.calls)
        status.update(f"{n} call{'s' if n != 1 else ''} · Enter opens one"
                      if n else "No calls yet. Dial one with F2.")

    def _fill(self) -> None:
        """(Re)build the rows for the current width, keeping the cursor's call."""
        table = self.query_one("#history-table", DataTable)
        wide = self.size.width >= WIDE
        keep = table.cursor_row
        if wide != self._wide:
            table.clear(columns=True)
            table.add_columns(*(c for c in COLUMNS if wide or c != "Number"))
            self._wide = wide
        else:
            table.clear()
        width = 24 if wide else 14
        for c in self._calls:
            company = c.get("company") or c.get("target") or ""
            hold, total = so_far(c)
            row = [when(c.get("started_at")), company if wide else cut(company, 18),
                   c.get("number") or "", cut(c.get("intent") or "", width),
                   outcome(c.get("outcome")), clock(hold), clock(total)]
            if not wide:
                del row[2]
            table.add_row(*row, key=c["call_id"])
        if self._calls:
            table.move_cursor(row=min(keep, len(self._calls) - 1))

    @on(DataTable.RowSelected, "#history-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.open_call(str(event.row_key.value))

    @work(thread=True, exclusive=True, group="history-call", exit_on_error=False,
          description="read one call")
    def open_call(self, call_id: str) -> None:
        store = self.hs.link.store
        self.post_message(CallLoaded(store.get_call(call_id) if store else None))

    @on(CallLoaded)
    def _show_call(self, message: CallLoaded) -> None:
        if message.call is not None:
            self.app.push_screen(CallDetailScreen(message.call))


def e(value: Any) -> str:
    return escape(str(value))


def call_detail_text(call: dict[str, Any]) -> str:
    hold, total = so_far(call)
    lines = [
        f"[b]{e(call.get('company') or call.get('target') or 'call')}[/b]"
        f"  {e(call.get('number') or '')}",
        f"started {when(call.get('started_at'))} · {outcome(call.get('outcome'))}"
        f" · hold {clock(hold)} · total {clock(total)}",
    ]
    if call.get("intent"):
        lines.append(f"intent: {e(call['intent'])}")
    if call.get("cause"):
        lines.append(f"ended: {e(call['cause'])}")
    if call.get("digits"):
        lines.append(f"digits pressed: {e(call['digits'])}")
    if call.get("codec"):
        lines.append(f"line: {e(summary(call['codec'], call.get('rx_loss_pct')))}")
    lines.append("")
    lines.append("[b]IVR path[/b]")
    steps = call.get("ivr_steps") or []
    for step in steps:
        chosen = f" → pressed {e(step['chosen'])}" if step.get("chosen") else ""
        lines.append(f"  {e(step.get('node_id') or 'menu')}{chosen}")
        if step.get("transcript"):
            lines.append(f"    “{e(step['transcript'])}”")
        if step.get("reason"):
            lines.append(f"    why: {e(step['reason'])}")
    if not steps:
        lines.append("  (no menus recorded)")
    lines.append("")
    lines.append("[b]Transcript[/b]")
    chunks = call.get("transcript") or []
    lines += [f"  “{e(c.get('text', ''))}”" for c in chunks] or ["  (nothing transcribed)"]
    lines.append("")
    lines.append("[b]Recordings[/b]")
    recs = call.get("recordings") or []
    lines += [f"  {e(r.get('kind', ''))}: {e(r.get('path', ''))}" for r in recs] or ["  (none)"]
    notes = call.get("notifications") or []
    if notes:
        lines.append("")
        lines.append("[b]Notifications[/b]")
        lines += [f"  {e(n.get('channel', ''))}: {e(n.get('status', ''))} "
                  f"{e(n.get('title', '') or '')}" for n in notes]
    return "\n".join(lines)


class CallDetailScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="close-detail")]

    def __init__(self, call: dict[str, Any]) -> None:
        super().__init__()
        self.call = call

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="call-detail"):
            yield Static(call_detail_text(self.call), markup=True)
        yield Footer()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
