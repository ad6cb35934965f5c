"""The IVR tree: each menu heard becomes a node under the one before (the path the call took),
showing what was said, the options, and what was pressed and why."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree

from holdslayer_tui.call_book import CallView


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _option(opt: Any) -> str:
    if isinstance(opt, dict):
        key = opt.get("digit") or opt.get("key") or ""
        label = opt.get("label") or opt.get("text") or opt.get("description") or ""
        return f"{key} → {label}" if key else str(label)
    return str(opt)


class IvrTree(Tree[str]):
    def __init__(self, **kw: Any) -> None:
        super().__init__("Call", **kw)
        self.show_root = True
        self._shown: tuple[int, str, str] = (-1, "", "")

    def show_call(self, call: CallView) -> None:
        """Rebuild only when something the tree shows changed (cheap at 1 Hz)."""
        key = (len(call.ivr), call.ivr[-1].chosen if call.ivr else "", call.loose_digits)
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        self.root.set_label(Text(call.title, style="bold"))
        parent = self.root
        for step in call.ivr:
            label = Text(step.node_id, style="bold")
            if step.chosen:
                label.append(f"  pressed {step.chosen}", style="green")
            node = parent.add(label, expand=True)
            if step.transcript:
                node.add_leaf(f"heard: “{_short(step.transcript)}”")
            if step.options:
                node.add_leaf("options: " + _short(", ".join(_option(o) for o in step.options)))
            if step.reason:
                node.add_leaf(f"why: {_short(step.reason)}")
            parent = node
        if call.loose_digits:
            parent.add_leaf(Text(f"pressed by hand: {call.loose_digits}", style="green"))
        self.root.expand_all()
