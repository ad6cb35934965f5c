"""The IVR tree: each menu heard becomes a node under the one before (the path the call took),
showing what was said, the options, and what was pressed and why.

Drawn with Rich's tree (not Textual's ``Tree``) because Rich wraps each label under its guide
lines: at 80×24 a panel is ~36 columns and a menu prompt must stay readable, not be clipped.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from rich.tree import Tree
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from holdslayer_tui.call_book import CallView


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _option(opt: Any) -> str:
    if isinstance(opt, dict):
        key = opt.get("digit") or opt.get("key") or ""
        label = opt.get("label") or opt.get("text") or opt.get("description") or ""
        return f"{key} → {label}" if key else str(label)
    return str(opt)


def render_tree(call: CallView) -> Tree:
    """The call's menu path as a Rich tree whose labels wrap at any width."""
    tree = Tree(Text(call.title, style="bold"), guide_style="dim")
    parent = tree
    for step in call.ivr:
        label = Text(step.node_id, style="bold")
        if step.chosen:
            label.append(f"  pressed {step.chosen}", style="green")
        node = parent.add(label)
        if step.transcript:
            node.add(Text(f"heard: “{_clean(step.transcript)}”"))
        if step.options:
            node.add(Text("options: " + ", ".join(_clean(_option(o)) for o in step.options)))
        if step.reason:
            node.add(Text(f"why: {_clean(step.reason)}", style="italic"))
        parent = node
    if not call.ivr and not call.loose_digits and call.live:
        tree.add(Text("menus appear here as they are heard; press digits yourself any time",
                      style="dim"))
    if call.loose_digits:
        parent.add(Text(f"pressed by hand: {call.loose_digits}", style="green"))
    return tree


class IvrTree(VerticalScroll, can_focus=True):
    """Scrollable with the keyboard when the path is longer than the panel."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._shown: tuple[Any, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", classes="ivr-tree-body")

    def show_call(self, call: CallView) -> None:
        """Redraw only when something the tree shows changed (cheap at 1 Hz); follow the
        newest menu unless the user scrolled up to read an older one."""
        key = (call.title, call.live, len(call.ivr), call.ivr[-1].chosen if call.ivr else "",
               call.ivr[-1].reason if call.ivr else "", call.loose_digits)
        if key == self._shown:
            return
        self._shown = key
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.query_one(".ivr-tree-body", Static).update(render_tree(call))
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)
