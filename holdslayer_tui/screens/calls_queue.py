"""Calls: every call of this session with its state and hold time, plus the calls queued to
start when a line is free. Reorder, pause or cancel queued ones; open, take over or hang up
live ones."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from holdslayer_tui.formatting import clock
from holdslayer_tui.messages import CallsChanged
from holdslayer_tui.screens.base import HsScreen

COLUMNS = ("#", "Call", "State", "Hold", "Time", "Note")


class CallsScreen(HsScreen):
    BINDINGS = [
        Binding("enter", "open", "Open", id="open-call", show=False),
        Binding("n", "new", "New", id="new-call"),
        Binding("t", "take_over", "Take over", id="queue-take-over"),
        Binding("x", "cancel", "Hang up/cancel", id="cancel-call"),
        Binding("p", "pause", "Pause", id="pause-queued"),
        Binding("u", "move(-1)", "Up", id="move-up"),
        Binding("d", "move(1)", "Down", id="move-down"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="calls-summary")
        yield DataTable(id="calls-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#calls-table", DataTable)
        table.add_columns(*COLUMNS)
        self._timer = self.set_interval(1.0, self.refresh_rows)
        self.refresh_rows()

    def on_screen_suspend(self) -> None:
        self._timer.pause()

    def on_screen_resume(self) -> None:
        self._timer.resume()
        self.refresh_rows()

    @on(CallsChanged)
    def _changed(self, _: CallsChanged) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        hs = self.hs
        now = hs.clock()
        table = self.query_one("#calls-table", DataTable)
        keep = table.cursor_row
        table.clear()
        n = 0
        for call in hs.book.calls.values():
            n += 1
            note = call.end_reason if not call.live else (
                "kept warm" if call.handover == "waiting" else
                f"position {call.queue_position}" if call.queue_position else call.intent)
            if call.live and call.line_grade == "poor":
                note = "poor line" + (f" · {note}" if note else "")
            table.add_row(str(n), call.title, call.state_label,
                          clock(call.hold_seconds(now)) if call.hold_started_at or call.hold_total
                          else "—", clock(call.elapsed(now)), note[:40], key=f"call:{call.call_id}")
        for entry in hs.queue.entries:
            n += 1
            table.add_row(str(n), entry.company or entry.target,
                          "Paused" if entry.paused else "Queued", "—", "—", entry.intent[:40],
                          key=f"queued:{entry.entry_id}")
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        live = len(hs.book.live())
        self.query_one("#calls-summary", Static).update(
            f"{live} live · {len(hs.queue.entries)} queued · at most {hs.max_live_calls} at once"
            + (f" · handed over: {hs.book.get(hs.desk.active).title}"
               if hs.desk.active and hs.book.get(hs.desk.active) else ""))

    def _selected(self) -> tuple[str, str] | None:
        table = self.query_one("#calls-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        kind, _, ident = key.partition(":")
        return kind, ident

    @on(DataTable.RowSelected)
    def action_open(self) -> None:
        sel = self._selected()
        if sel and sel[0] == "call":
            self.hs.open_call(sel[1])

    def action_new(self) -> None:
        self.app.switch_mode("dial")

    def action_take_over(self) -> None:
        sel = self._selected()
        if sel and sel[0] == "call":
            self.hs.take_over(sel[1])

    def action_cancel(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        if sel[0] == "call":
            self.hs.hang_up_by_key(sel[1], self.key_for("cancel-call"))
        else:
            self.hs.queue.cancel(int(sel[1]))
        self.refresh_rows()

    def action_pause(self) -> None:
        sel = self._selected()
        if sel and sel[0] == "queued":
            self.hs.queue.toggle_pause(int(sel[1]))
            self.hs.pump_queue()
            self.refresh_rows()

    def action_move(self, delta: int) -> None:
        sel = self._selected()
        if sel and sel[0] == "queued" and self.hs.queue.move(int(sel[1]), delta):
            table = self.query_one("#calls-table", DataTable)
            row = table.cursor_row + delta
            self.refresh_rows()
            table.move_cursor(row=row)
