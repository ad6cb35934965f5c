"""Commands to the SIP engine, as plain serialisable data.

The TUI, the CLI and (later) a headless service all drive the engine with these; a remote
client can send them as JSON (``to_dict`` / ``command_from_dict``) and get the same behaviour.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.kind, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, slots=True)
class Dial(Command):
    """Place a call to a SIP URI (targets are resolved to URIs before this)."""

    kind: ClassVar[str] = "dial"
    uri: str
    call_id: str
    via_trunk: bool = False
    dtmf_method: str | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Hangup(Command):
    kind: ClassVar[str] = "hangup"
    call_id: str
    reason: str = "hung up by user"


@dataclasses.dataclass(frozen=True, slots=True)
class SendDtmf(Command):
    """Digits with ``,`` pauses; completes when the last digit has been sent."""

    kind: ClassVar[str] = "send_dtmf"
    call_id: str
    digits: str
    method: str | None = None
    spacing: float | None = None
    private: bool = False  # account numbers, PINs: events show "•" instead of the key
    source: str = "user"  # who pressed: "user" (by hand, --digits) or "navigator"


@dataclasses.dataclass(frozen=True, slots=True)
class PlayFile(Command):
    kind: ClassVar[str] = "play_file"
    call_id: str
    path: str
    wait: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class StopAudio(Command):
    kind: ClassVar[str] = "stop_audio"
    call_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Bridge(Command):
    """Connect two calls' audio both ways (the user's phone leg and the company leg)."""

    kind: ClassVar[str] = "bridge"
    call_a: str
    call_b: str


@dataclasses.dataclass(frozen=True, slots=True)
class Unbridge(Command):
    kind: ClassVar[str] = "unbridge"
    call_a: str
    call_b: str


@dataclasses.dataclass(frozen=True, slots=True)
class Transfer(Command):
    """Blind transfer with REFER; we hang up once the far end reports success."""

    kind: ClassVar[str] = "transfer"
    call_id: str
    uri: str


@dataclasses.dataclass(frozen=True, slots=True)
class ListCalls(Command):
    kind: ClassVar[str] = "list_calls"


COMMANDS: dict[str, type[Command]] = {
    c.kind: c
    for c in (Dial, Hangup, SendDtmf, PlayFile, StopAudio, Bridge, Unbridge, Transfer, ListCalls)
}


def command_from_dict(raw: dict[str, Any]) -> Command:
    data = dict(raw)
    kind = data.pop("command", None)
    if kind not in COMMANDS:
        raise ValueError(f"unknown command {kind!r}; known: {', '.join(sorted(COMMANDS))}")
    return COMMANDS[kind](**data)
