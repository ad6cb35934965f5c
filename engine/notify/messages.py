"""The event -> message table: what the user is told about a call, and how urgently."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from engine.events import Event, EventType
from engine.notify.priority import Priority

# What the user can answer a notification with, where the channel can ask (desktop buttons).
# The key is what a USER_ACTION event carries in data["action"]; the title is the button.
TAKE_CALL = "take_call"
HANG_UP = "hang_up"
SHOW_CALL = "show_call"  # the notification itself was clicked: bring that call into view
PERSON_ACTIONS: tuple[tuple[str, str], ...] = ((TAKE_CALL, "Take call"), (HANG_UP, "Hang up"))


@dataclasses.dataclass(frozen=True, slots=True)
class Notification:
    """One message to deliver on every channel whose minimum priority it meets."""

    call_id: str
    event_type: str
    priority: Priority
    title: str
    body: str
    dedupe_key: str
    company: str = ""
    number: str = ""
    timestamp: float = dataclasses.field(default_factory=time.time)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    actions: tuple[tuple[str, str], ...] = ()  # (key, title) the user may answer with

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event_type,
            "priority": self.priority.name,
            "title": self.title,
            "message": self.body,
            "call_id": self.call_id,
            "company": self.company,
            "number": self.number,
            "timestamp": round(self.timestamp, 3),
            "data": self.data,
        }


NOTIFY_TYPES = frozenset(
    {
        EventType.CALL_STARTED,  # context only (company, number), not announced
        EventType.HUMAN_DETECTED,
        EventType.TRANSFER_STARTED,
        EventType.CALL_FAILED,
        EventType.CALL_ENDED,
        EventType.HOLD_DETECTED,
        EventType.IVR_STEP,
        EventType.IVR_DTMF_SENT,
    }
)


def _is_timeout(reason: str) -> bool:
    r = reason.lower()
    return "timeout" in r or "timed out" in r


def _mmss(seconds: Any) -> str:
    try:
        total = int(round(float(seconds)))
    except (TypeError, ValueError):
        return ""
    return f"{total // 60}:{total % 60:02d}"


def message_for(event: Event, context: dict[str, Any]) -> Notification | None:
    """The notification an event deserves (None for events the user needn't hear about).

    ``context`` is what CALL_STARTED said about the call (company, number, target).
    """
    d = event.data or {}
    who = context.get("company") or context.get("number") or context.get("target") or "the call"
    t = event.type
    key = t.value
    actions: tuple[tuple[str, str], ...] = ()
    if t is EventType.HUMAN_DETECTED:
        prio, title = Priority.CRITICAL, f"{who}: a person answered"
        body = "Pick up now: a live agent is on the line"
        conf = d.get("confidence")
        if isinstance(conf, int | float):
            body += f" (confidence {conf:.0%})"
        body += "."
        actions = PERSON_ACTIONS
    elif t is EventType.TRANSFER_STARTED:
        target = str(d.get("target") or "your phone")
        prio, title = Priority.CRITICAL, f"{who}: transferring to you"
        body = f"Connecting the agent to {target}."
        key = f"{key}:{target}"
    elif t is EventType.CALL_FAILED:
        reason = str(d.get("reason") or "no reason given")
        code = d.get("sip_code")
        prio, title = Priority.HIGH, f"Call to {who} failed"
        body = reason + (f" (SIP {code})" if code else "") + "."
    elif t is EventType.CALL_ENDED:
        reason = str(d.get("reason") or "")
        after = _mmss(d.get("duration"))
        tail = f" after {after}" if after else ""
        if _is_timeout(reason):
            prio, title = Priority.HIGH, f"Call to {who} timed out"
        else:
            prio, title = Priority.NORMAL, f"Call to {who} ended"
        body = f"{reason or 'Call ended'}{tail}."
    elif t is EventType.HOLD_DETECTED:
        prio, title = Priority.NORMAL, f"{who}: on hold"
        body = "Waiting on hold for you; you will hear when a person answers."
    elif t is EventType.IVR_STEP and d.get("needs_input"):
        field = str(d["needs_input"]).replace("_", " ")
        prio, title = Priority.HIGH, f"{who}: the menu needs your {field}"
        body = str(d.get("reason") or f"Type your {field} now.")
        key = f"{key}:needs:{d['needs_input']}"
    elif t is EventType.IVR_STEP:
        heard = str(d.get("transcript") or "")[:160]
        chosen = d.get("chosen")
        prio, title = Priority.LOW, f"{who}: phone menu"
        body = (f"Heard \u201c{heard}\u201d" if heard else "Menu") + (
            f"; chose {chosen}." if chosen else "."
        )
        key = f"{key}:{d.get('node_id', '')}:{chosen or ''}"
    elif t is EventType.IVR_DTMF_SENT:
        digits = str(d.get("digits") or "")
        prio, title = Priority.LOW, f"{who}: pressed {digits or 'a key'}"
        body = f"Sent {digits or 'digits'} ({d.get('method') or 'DTMF'})."
        key = f"{key}:{digits}:{event.seq}"
    else:
        return None
    return Notification(
        call_id=event.call_id,
        event_type=t.value,
        priority=prio,
        title=title,
        body=body,
        dedupe_key=key,
        company=str(context.get("company") or ""),
        number=str(context.get("number") or ""),
        timestamp=event.timestamp,
        data=dict(d),
        actions=actions,
    )
