"""The audio-level meter: a bar for the latest level and a sparkline of the last seconds,
so the user sees hold music pulse, silence, and a voice at a glance."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from holdslayer_tui.level_snapshot import FLOOR_DBFS, Level

BAR_WIDTH = 40


def level_bar(level: Level, width: int = BAR_WIDTH) -> str:
    fill = int(round((min(0.0, max(FLOOR_DBFS, level.rms_dbfs)) - FLOOR_DBFS) / -FLOOR_DBFS
                     * width))
    label = f" {level.label}" if level.label else ""
    db = "  —  " if level.seq == 0 else f"{level.rms_dbfs:5.0f}"
    return f"{'█' * fill}{'·' * (width - fill)} {db} dBFS{label}"


class LevelMeter(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(level_bar(Level()), id="level-bar")
        yield Sparkline([0.0], id="level-history")

    def show(self, level: Level, history: list[float]) -> None:
        self.query_one("#level-bar", Static).update(level_bar(level))
        # shift to >= 0 so the sparkline's scale starts at silence, not at the quietest sample
        data = [v - FLOOR_DBFS for v in history] or [0.0]
        spark = self.query_one("#level-history", Sparkline)
        spark.data = [0.0, *data] if len(data) > 1 else [0.0, data[0]]
