"""Shared screen plumbing: typed access to the app without a circular import."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from holdslayer_tui.app import HoldSlayerApp


class HsScreen(Screen[None]):
    @property
    def hs(self) -> HoldSlayerApp:
        return cast("HoldSlayerApp", self.app)
