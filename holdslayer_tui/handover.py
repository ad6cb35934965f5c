"""One hand-over at a time: the user can only talk to one agent, so when a person answers on a
second call while the first is handed over, the second waits ("please hold, connecting you")
and is handed over when the first ends."""

from __future__ import annotations


class HandoverDesk:
    def __init__(self) -> None:
        self.active: str | None = None
        self.waiting: list[str] = []

    def request(self, call_id: str) -> str:
        """"active" if the call gets the user now, "waiting" if it must be kept warm."""
        if self.active in (None, call_id):
            self.active = call_id
            return "active"
        if call_id not in self.waiting:
            self.waiting.append(call_id)
        return "waiting"

    def release(self, call_id: str) -> str | None:
        """The call ended or was given back; returns the next call to hand over, if any."""
        if call_id in self.waiting:
            self.waiting.remove(call_id)
            return None
        if self.active != call_id:
            return None
        self.active = self.waiting.pop(0) if self.waiting else None
        return self.active
