"""Analytics: success rate, average hold/IVR/total time, per-company stats with the best time
to call, top numbers, and hold time by hour of day as a plot. Computed by
``engine.analytics`` in a worker."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from holdslayer_tui.formatting import clock, percent
from holdslayer_tui.screens.base import HsScreen


class StatsLoaded(Message):
    def __init__(self, stats: dict[str, Any] | None, error: str = "") -> None:
        super().__init__()
        self.stats = stats
        self.error = error


def read_stats(store: Any) -> dict[str, Any]:
    from engine.analytics import CallAnalytics

    analytics = CallAnalytics(store, max_history=None)
    companies = sorted({c["company"] for c in store.list_calls(limit=1000) if c.get("company")})
    return {
        "summary": analytics.get_summary(),
        "companies": [analytics.get_company_stats(c) for c in companies],
        "top_numbers": analytics.get_top_numbers(5),
        "trend": analytics.get_hold_time_trend(),
    }


class AnalyticsScreen(HsScreen):
    BINDINGS = [Binding("ctrl+r", "reload", "Reload", id="analytics-reload")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="analytics"):
            with Horizontal(id="analytics-top"):
                yield DataTable(id="summary-table", show_cursor=False)
                yield DataTable(id="numbers-table", show_cursor=False)
            yield DataTable(id="companies-table", show_cursor=False, zebra_stripes=True)
            yield PlotextPlot(id="hold-plot")
            yield Static("", id="analytics-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#summary-table", DataTable).add_columns("Overall", "")
        self.query_one("#numbers-table", DataTable).add_columns("Top number", "Calls", "Hold")
        self.query_one("#companies-table", DataTable).add_columns(
            "Company", "Calls", "Success", "Avg hold", "Avg IVR", "Best time to call")
        self.query_one("#hold-plot", PlotextPlot).border_title = "Average hold by hour of day"
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    @work(thread=True, exclusive=True, group="analytics", exit_on_error=False,
          description="compute analytics")
    def action_reload(self) -> None:
        store = self.hs.link.store
        if store is None:
            self.post_message(StatsLoaded(None, "history is not available yet"))
            return
        try:
            self.post_message(StatsLoaded(read_stats(store)))
        except Exception as exc:
            self.post_message(StatsLoaded(None, f"cannot compute analytics: {exc}"))

    @on(StatsLoaded)
    def _show(self, message: StatsLoaded) -> None:
        self.query_one("#analytics-status", Static).update(message.error)
        if message.stats is None:
            return
        stats = message.stats
        s = stats["summary"]
        summary = self.query_one("#summary-table", DataTable)
        summary.clear()
        for label, value in (
            ("Calls", str(s["total_calls"])),
            ("Success rate", percent(s["success_rate"])),
            ("Avg hold", clock(s["avg_hold_time"])),
            ("Avg IVR", clock(s["avg_ivr_time"])),
            ("Avg total", clock(s["avg_total_duration"])),
        ):
            summary.add_row(label, value)
        numbers = self.query_one("#numbers-table", DataTable)
        numbers.clear()
        for n in stats["top_numbers"]:
            numbers.add_row(n["number"], str(n["calls"]), clock(n["avg_hold_time"]))
        companies = self.query_one("#companies-table", DataTable)
        companies.clear()
        for c in stats["companies"]:
            companies.add_row(c["company"], str(c["total_calls"]), percent(c["success_rate"]),
                              clock(c["avg_hold_time"]), clock(c["avg_ivr_time"]),
                              c["best_time"] or "not enough calls yet")
        self._plot(stats["trend"])

    def _plot(self, trend: list[dict[str, Any]]) -> None:
        widget = self.query_one("#hold-plot", PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        # every hour, zeros included: plotext sizes bars by the gap between the x values it
        # is given, so three hours 9, 10, 16 came out as bars five hours wide, misplaced
        by_hour = {int(t["hour"]): round(t["avg_hold"] / 60, 1) for t in trend}
        if by_hour:
            plt.bar(list(range(24)), [by_hour.get(h, 0.0) for h in range(24)], width=0.6)
        plt.xlim(-0.5, 23.5)
        plt.xticks(list(range(0, 24, 3)))
        plt.xlabel("hour")
        plt.ylabel("min")
        widget.refresh()
