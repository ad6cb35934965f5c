"""What the UI knows about each call, folded from engine events on the UI thread.

Pure data (no Textual), so the state machine is unit-testable and every screen reads one
consistent picture; times come from the events themselves, never from the UI's clock.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.events import Event, EventType

DIALING, RINGING, MENU, ON_HOLD, PERSON = "dialing", "ringing", "menu", "on_hold", "person"
HANDED_OVER, ENDED, FAILED = "handed_over", "ended", "failed"
LIVE_STATES = (DIALING, RINGING, MENU, ON_HOLD, PERSON, HANDED_OVER)
STATE_LABELS = {
    DIALING: "Dialing",
    RINGING: "Ringing",
    MENU: "Menu",
    ON_HOLD: "On hold",
    PERSON: "PERSON!",
    HANDED_OVER: "Handed over",
    ENDED: "Ended",
    FAILED: "Failed",
}
MAX_TRANSCRIPT = 500
LEAVES = ("hold", "human")  # IVR_STEP kinds that end the navigator's path, not a menu
YOU_SAID = "you said: "  # transcript lines the user typed (the rest is what the call said)


@dataclasses.dataclass
class IvrNode:
    """One menu heard: what was said, the options, what we pressed and why."""

    node_id: str
    transcript: str = ""
    options: list[Any] = dataclasses.field(default_factory=list)
    chosen: str = ""
    reason: str = ""


def person_reason(evidence: object) -> str:
    """One line on why the detector says a person is there: its rule and what it heard."""
    if not isinstance(evidence, dict):
        return ""
    rule = str(evidence.get("rule") or "")
    words = str(evidence.get("window_text") or evidence.get("person_words")
                or evidence.get("text") or "").strip()  # fmt: skip
    if len(words) > 60:
        words = words[:59].rstrip() + "…"
    return f"{rule}: “{words}”" if rule and words else rule


@dataclasses.dataclass
class CallView:
    call_id: str
    started_at: float
    target: str = ""
    company: str = ""
    intent: str = ""
    uri: str = ""
    state: str = DIALING
    answered_at: float | None = None
    hold_started_at: float | None = None
    hold_total: float = 0.0  # finished hold spells
    human_at: float | None = None
    person_why: str = ""  # the detector's reason, with the words it heard
    ended_at: float | None = None
    end_reason: str = ""
    digits: str = ""
    transcript: list[str] = dataclasses.field(default_factory=list)
    ivr: list[IvrNode] = dataclasses.field(default_factory=list)
    loose_digits: str = ""  # digits pressed with no menu step to hang them on
    queue_position: int | None = None
    callback_key: str = ""  # a callback was offered: press this key to accept
    wait_minutes: float | None = None
    listening: bool = False  # the call's audio plays on this computer's speaker
    handover: str = ""  # "", "waiting", "active"
    handover_target: str = ""  # the user's phone for this call ("" = settings / here)
    line_grade: str = ""  # LINE_QUALITY's last grade: "", "good", "fair", "poor"
    line_loss_pct: float = 0.0
    line_jitter_ms: float = 0.0

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def title(self) -> str:
        return self.company or self.target or self.uri or "call"

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    def hold_seconds(self, now: float) -> float:
        """Time on hold so far (all spells); keeps counting while a hold spell is open."""
        current = 0.0
        if self.hold_started_at is not None:
            current = max(0.0, (self.ended_at or self.human_at or now) - self.hold_started_at)
        return self.hold_total + current

    def elapsed(self, now: float) -> float:
        return max(0.0, (self.ended_at or now) - self.started_at)


class CallBook:
    """Calls in the order they were started; ``apply`` returns the call an event changed."""

    def __init__(self) -> None:
        self.calls: dict[str, CallView] = {}

    def get(self, call_id: str) -> CallView | None:
        return self.calls.get(call_id)

    def live(self) -> list[CallView]:
        return [c for c in self.calls.values() if c.live]

    def expect(self, call_id: str, at: float, target: str = "", company: str = "",
               intent: str = "") -> CallView:
        """Register a call we just placed (its CALL_STARTED may already be on its way)."""
        call = self.calls.get(call_id)
        if call is None:
            call = self.calls[call_id] = CallView(call_id, at)
        call.target = call.target or target
        call.company = call.company or company
        call.intent = call.intent or intent
        return call

    def apply(self, event: Event) -> CallView | None:
        if not event.call_id:
            return None
        d, t = event.data, event.timestamp
        call = self.calls.get(event.call_id)
        if call is None:
            if event.type != EventType.CALL_STARTED:
                return None
            call = self.calls[event.call_id] = CallView(event.call_id, t)
        match event.type:
            case EventType.CALL_STARTED:
                call.started_at = min(call.started_at, t)
                call.target = call.target or str(d.get("target") or "")
                call.company = call.company or str(d.get("company") or "")
                call.intent = call.intent or str(d.get("intent") or "")
                call.uri = str(d.get("uri") or "")
            case EventType.CALL_RINGING | EventType.CALL_EARLY_MEDIA:
                if call.state == DIALING:
                    call.state = RINGING
            case EventType.CALL_ANSWERED:
                call.answered_at = t
                if call.state in (DIALING, RINGING):
                    call.state = MENU
            case EventType.IVR_STEP:
                call.ivr.append(IvrNode(
                    node_id=str(d.get("node_id") or f"menu {len(call.ivr) + 1}"),
                    transcript=str(d.get("transcript") or ""),
                    options=list(d.get("options") or []),
                    chosen=str(d.get("chosen") or ""),
                    reason=str(d.get("reason") or ""),
                ))
                # the navigator's leaves ("on hold: the queue was reached", "a person
                # answered") end its path; they are no new menu (the call stays on hold)
                if d.get("kind") not in LEAVES and call.state in (DIALING, RINGING, ON_HOLD):
                    self._end_hold(call, t)
                    call.state = MENU
            case EventType.IVR_DTMF_SENT:
                digits = str(d.get("digits") or "")
                call.digits += digits
                if d.get("source") == "navigator":
                    pass  # its IVR_STEP (sent once the keys are out) names what it chose
                elif call.ivr and not call.ivr[-1].chosen:
                    call.ivr[-1].chosen = digits  # the menu asked the user to type
                else:
                    call.loose_digits += digits
            case EventType.HOLD_DETECTED:
                if call.state in (DIALING, RINGING, MENU):
                    call.state = ON_HOLD
                    call.hold_started_at = call.hold_started_at or t
            case EventType.HUMAN_DETECTED:
                if call.state not in (ENDED, FAILED, HANDED_OVER):
                    call.human_at = call.human_at or t
                    call.state = PERSON
                    call.person_why = call.person_why or person_reason(d.get("evidence"))
            case EventType.TRANSCRIPT_CHUNK:
                text = str(d.get("text") or "").strip()
                if text:
                    call.transcript.append(text)
                    del call.transcript[:-MAX_TRANSCRIPT]
                queue = d.get("queue") or {}
                if "position" in queue:
                    call.queue_position = int(queue["position"])
                if "wait_minutes" in queue:
                    call.wait_minutes = float(queue["wait_minutes"])
            case EventType.QUEUE_POSITION:
                if d.get("position") is not None:
                    call.queue_position = int(d["position"])
                if d.get("wait_minutes") is not None:
                    call.wait_minutes = float(d["wait_minutes"])
            case EventType.LINE_QUALITY:
                call.line_grade = str(d.get("grade") or "")
                call.line_loss_pct = float(d.get("loss_pct") or 0.0)
                call.line_jitter_ms = float(d.get("jitter_ms") or 0.0)
            case EventType.CALLBACK_OFFER:
                call.callback_key = str(d.get("key") or "?")
            case EventType.TRANSFER_STARTED:
                call.state = HANDED_OVER
            case EventType.CALL_FAILED:
                call.state = FAILED
                call.end_reason = str(d.get("reason") or "")
                call.ended_at = call.ended_at or t
            case EventType.CALL_ENDED:
                if call.state != FAILED:
                    call.state = ENDED
                call.end_reason = call.end_reason or str(d.get("reason") or "")
                call.ended_at = call.ended_at or t
            case _:
                return None
        return call

    @staticmethod
    def _end_hold(call: CallView, t: float) -> None:
        if call.hold_started_at is not None:
            call.hold_total += max(0.0, t - call.hold_started_at)
            call.hold_started_at = None
