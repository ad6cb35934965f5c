"""Writes every engine event to history the moment it is heard.

Why per event and not at call end: the process may be killed mid-call (kill -9, power,
a crash in native code); whatever was already heard must survive, and the next start
marks the unfinished call "interrupted" (see ``HistoryStore.recover_interrupted``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from engine.events import Event, EventBus, EventType, Subscription
from engine.store import models as m
from engine.store.database import HistoryStore

log = logging.getLogger(__name__)

# AUDIO_LEVEL arrives at 20-50 Hz and is not history.
RECORDED_TYPES = frozenset(EventType) - {EventType.AUDIO_LEVEL}


def _num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str:
    return "" if value is None else str(value)


class HistoryRecorder:
    """Subscribes to the bus and mirrors each call into a :class:`HistoryStore`.

    ``max_history`` (if set) prunes the oldest calls each time a call finishes.
    """

    def __init__(
        self, bus: EventBus, store: HistoryStore, *, max_history: int | None = None
    ) -> None:
        self.store = store
        self.max_history = max_history
        self._seen = 0
        self._legs: set[str] = set()  # hand-over legs to the user's phone: not calls of their own
        self._cond = threading.Condition()
        self._sub: Subscription | None = bus.subscribe(self.handle, types=RECORDED_TYPES)

    def close(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None

    def __enter__(self) -> HistoryRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until ``count`` events have been written (for tests and orderly shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._seen >= count, timeout)

    @property
    def written(self) -> int:
        with self._cond:
            return self._seen

    def handle(self, event: Event) -> None:
        try:
            if event.call_id:
                self._apply(event)
        except Exception:
            log.exception("history: could not record %s for call %s", event.type, event.call_id)
        finally:
            with self._cond:
                self._seen += 1
                self._cond.notify_all()

    def _apply(self, ev: Event) -> None:
        s, cid, at, d = self.store, ev.call_id, ev.timestamp, ev.data or {}
        t = ev.type
        if cid in self._legs:
            return  # the user's phone leg of a hand-over: part of its company call
        if t is EventType.CALL_STARTED and d.get("handover_for"):
            self._legs.add(cid)
            return
        if t is EventType.CALL_STARTED:
            s.start_call(
                cid,
                at=at,
                company=_str(d.get("company")),
                number=_str(d.get("number")),
                intent=_str(d.get("intent")),
                target=_str(d.get("target")),
                uri=_str(d.get("uri")),
            )
            return
        s.ensure_call(cid, at)
        if t is EventType.CALL_RINGING:
            s.update_call(cid, at, sip_code=_int(d.get("sip_code")))
        elif t is EventType.CALL_ANSWERED:
            s.set_if_null(cid, "answered_at", at, at)
        elif t is EventType.IVR_DTMF_SENT:
            digits = _str(d.get("digits"))
            if digits:
                s.append_digits(cid, digits, at)
        elif t is EventType.IVR_STEP:
            s.add_ivr_step(
                cid,
                at,
                node_id=_str(d.get("node_id")),
                transcript=_str(d.get("transcript")),
                options=d.get("options"),
                chosen=_str(d.get("chosen")),
                reason=_str(d.get("reason")),
            )
        elif t is EventType.HOLD_DETECTED:
            s.set_if_null(cid, "hold_started_at", at, at)
        elif t is EventType.HUMAN_DETECTED:
            s.set_if_null(cid, "human_at", at, at)
            s.update_call(cid, outcome=m.OUTCOME_SUCCESS)
        elif t is EventType.TRANSFER_STARTED:
            s.set_if_null(cid, "transferred_at", at, at)
            s.update_call(cid, outcome=m.OUTCOME_SUCCESS)
        elif t is EventType.TRANSCRIPT_CHUNK:
            s.add_transcript_chunk(
                cid,
                at,
                text_=_str(d.get("text")),
                speaker=_str(d.get("speaker")),
                start=_num(d.get("start")),
                end=_num(d.get("end")),
            )
        elif t is EventType.RECORDING_STOPPED:
            s.add_recording(
                cid,
                at,
                path=_str(d.get("path")),
                kind=_str(d.get("kind")),
                duration=_num(d.get("duration")),
                file_size=_int(d.get("file_size")),
            )
        elif t in (EventType.CALL_FAILED, EventType.CALL_ENDED):
            self._finish(ev)
        else:
            s.update_call(cid, at)

    def _finish(self, ev: Event) -> None:
        """Close the call: outcome, cause and the derived durations analytics average."""
        s, cid, at, d = self.store, ev.call_id, ev.timestamp, ev.data or {}
        call = s.get_call(cid)
        if call is None or call["ended_at"] is not None:
            return  # CALL_FAILED then CALL_ENDED: the first one closed it
        answered, hold, human = call["answered_at"], call["hold_started_at"], call["human_at"]
        reached = human if human is not None else call["transferred_at"]
        if ev.type is EventType.CALL_FAILED:
            outcome = m.OUTCOME_FAILED
        elif reached is not None or call["outcome"] == m.OUTCOME_SUCCESS:
            outcome = m.OUTCOME_SUCCESS
        elif answered is None:
            outcome = m.OUTCOME_FAILED
        else:
            outcome = m.OUTCOME_HUNG_UP
        hold_seconds = None
        if hold is not None:
            hold_seconds = max(0.0, (reached if reached is not None else at) - hold)
        ivr_seconds = None
        if answered is not None:
            menu_end = min(x for x in (hold, reached, at) if x is not None)
            ivr_seconds = max(0.0, menu_end - answered)
        s.update_call(
            cid,
            at,
            ended_at=at,
            outcome=outcome,
            cause=_str(d.get("reason")),
            sip_code=_int(d.get("sip_code")) or call["sip_code"],
            hold_seconds=hold_seconds,
            ivr_seconds=ivr_seconds,
            total_seconds=max(0.0, at - call["started_at"]),
            codec=_str(d.get("codec")),
            rx_loss_pct=_float(d.get("rx_loss_pct")) if d.get("rx_packets") else None,
        )
        if outcome == m.OUTCOME_SUCCESS and call["digits"]:
            nodes = [st["node_id"] for st in call["ivr_steps"] if st["node_id"]]
            s.learn_flow(
                call["company"], call["digits"], intent=call["intent"], nodes=nodes, at=at
            )
        if self.max_history:
            s.prune(self.max_history)
