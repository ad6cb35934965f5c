"""Typed messages that carry engine facts onto the UI thread.

The bus callback thread only ever calls ``post_message`` (thread-safe, never blocks), so the
engine can never be stalled by the UI, and the UI never touches engine threads' state.
"""

from __future__ import annotations

from textual.message import Message

from engine.events import Event


class EngineEvent(Message):
    """One discrete engine event (everything but AUDIO_LEVEL, which goes to a snapshot)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class RuntimeReady(Message):
    """The engine started; calls can be placed."""


class RuntimeFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class CallPlaced(Message):
    def __init__(self, call_id: str, target: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.target = target


class CallNotPlaced(Message):
    def __init__(self, target: str, error: str) -> None:
        super().__init__()
        self.target = target
        self.error = error


class CallsChanged(Message):
    """Something in the call book changed; ``call_id`` is "" for queue-only changes."""

    def __init__(self, call_id: str = "") -> None:
        super().__init__()
        self.call_id = call_id


class ReadyToExit(Message):
    """Calls are hung up (or the wait ran out): leave."""


class HandoverLegPlaced(Message):
    """The second leg (the user's phone) for a hand-over was dialled."""

    def __init__(self, leg: str, call_id: str) -> None:
        super().__init__()
        self.leg = leg
        self.call_id = call_id


class SpeechQueued(Message):
    """Typed text was synthesised and queued into the call."""

    def __init__(self, call_id: str, text: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.text = text


class SpeechFailed(Message):
    def __init__(self, call_id: str, error: str) -> None:
        super().__init__()
        self.call_id = call_id
        self.error = error


class LocalAudioChanged(Message):
    """Listening in / talking here started (``problem`` "") or could not (why not)."""

    def __init__(self, call_id: str, mode: str, problem: str = "") -> None:
        super().__init__()
        self.call_id = call_id
        self.mode = mode  # "listen" or "talk"
        self.problem = problem
