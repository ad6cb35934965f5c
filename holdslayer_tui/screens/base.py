"""Shared screen plumbing: typed access to the app without a circular import."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from holdslayer_tui.app import HoldSlayerApp


class HsScreen(Screen[None]):
    @property
    def hs(self) -> HoldSlayerApp:
        return cast("HoldSlayerApp", self.app)

    def key_for(self, binding_id: str) -> str:
        """The key the user has for a binding now (the keymap may have moved it)."""
        for key, active in self.active_bindings.items():
            if active.binding.id == binding_id:
                return self.app.get_key_display(dataclasses.replace(active.binding, key=key))
        return "the key"
