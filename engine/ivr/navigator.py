"""What every phone-menu navigator takes and gives, so the call driver can swap them
mid-call (LLM → offline when the server fails; replay → navigating when a menu changed).

A navigator is pure decision: given the menu heard so far, the caller's intent and what was
already tried, it returns a :class:`Choice`. Timing, DTMF and events belong to the driver
(``engine.ivr.session``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from engine.ivr.menu_parser import ParsedMenu

ACTIONS = ("dtmf", "speak", "wait", "hang_up", "request_agent")


@dataclasses.dataclass(slots=True)
class MenuContext:
    menu: ParsedMenu
    intent: str
    company: str = ""
    pressed: list[str] = dataclasses.field(default_factory=list)  # earlier menus' keys
    excluded: set[str] = dataclasses.field(default_factory=set)  # tried here, not taken
    attempt: int = 0  # how many times this menu was already answered
    path: list[str] = dataclasses.field(default_factory=list)  # labels chosen in earlier menus

    @property
    def transcript(self) -> str:
        return self.menu.text


@dataclasses.dataclass(slots=True)
class Choice:
    action: str  # one of ACTIONS
    digits: str = ""
    text: str = ""
    reason: str = ""
    confidence: float = 0.0
    source: str = "offline"
    ranked: list[str] = dataclasses.field(default_factory=list)  # keys, best first
    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    decisive: bool = False  # safe to act before the menu has finished speaking

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "digits": self.digits, "text": self.text,
                "reason": self.reason, "confidence": round(self.confidence, 3),
                "source": self.source}


class Navigator(Protocol):
    name: str

    def decide(self, ctx: MenuContext) -> Choice: ...

    def close(self) -> None: ...
