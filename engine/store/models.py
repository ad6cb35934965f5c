"""The history tables. Times are Unix seconds (REAL) so SQL can aggregate them directly;
``local_dow``/``local_hour`` are computed once at insert so "best time to call" needs no
per-row date arithmetic on a large history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Field, SQLModel

OUTCOME_IN_PROGRESS = "in_progress"
OUTCOME_SUCCESS = "success"  # a person answered (or the call was transferred to the user)
OUTCOME_FAILED = "failed"  # never connected: busy, rejected, unreachable
OUTCOME_HUNG_UP = "hung_up"  # connected but ended before a person answered
OUTCOME_INTERRUPTED = "interrupted"  # the app died mid-call
OUTCOMES = (
    OUTCOME_IN_PROGRESS,
    OUTCOME_SUCCESS,
    OUTCOME_FAILED,
    OUTCOME_HUNG_UP,
    OUTCOME_INTERRUPTED,
)


def so_far(call: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """Hold and total seconds, also for a call still going, whose row has neither until it
    ends: counted to its last event, and the hold to the person if one answered."""
    hold, total = call.get("hold_seconds"), call.get("total_seconds")
    started = call.get("started_at")
    if call.get("ended_at") is not None or started is None:
        return hold, total
    last = call.get("last_event_at") or started
    if call.get("hold_started_at") is not None:
        reached = call.get("human_at") or call.get("transferred_at") or last
        hold = max(0.0, reached - call["hold_started_at"])
    return hold, max(0.0, last - started)


class Call(SQLModel, table=True):
    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(unique=True)
    company: str = ""
    number: str = ""
    intent: str = ""
    target: str = ""
    uri: str = ""
    started_at: float
    answered_at: float | None = None
    hold_started_at: float | None = None
    human_at: float | None = None
    transferred_at: float | None = None
    ended_at: float | None = None
    last_event_at: float | None = None
    outcome: str = OUTCOME_IN_PROGRESS
    cause: str = ""
    sip_code: int | None = None
    hold_seconds: float | None = None
    ivr_seconds: float | None = None
    total_seconds: float | None = None
    digits: str = ""
    local_dow: int | None = None  # 0 = Monday, local time of started_at
    local_hour: int | None = None
    owner_pid: int | None = None  # process writing this call; a dead owner = interrupted
    # the audio codec negotiated, "PCMU/8000" (a server default, as an upgraded file has)
    codec: str = Field("", sa_column_kwargs={"server_default": ""})
    rx_loss_pct: float | None = None  # share of the far end's RTP packets lost, whole call


class IvrStep(SQLModel, table=True):
    __tablename__ = "ivr_steps"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(foreign_key="calls.call_id", ondelete="CASCADE")
    at: float
    node_id: str = ""
    transcript: str = ""
    options: str = "[]"  # JSON
    chosen: str = ""
    reason: str = ""


class TranscriptChunk(SQLModel, table=True):
    __tablename__ = "transcript_chunks"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(foreign_key="calls.call_id", ondelete="CASCADE")
    at: float
    text: str = ""
    speaker: str = ""
    start: float | None = None
    end: float | None = None


class Recording(SQLModel, table=True):
    __tablename__ = "recordings"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(foreign_key="calls.call_id", ondelete="CASCADE")
    at: float
    path: str
    kind: str = ""
    duration: float | None = None
    file_size: int | None = None


class Company(SQLModel, table=True):
    __tablename__ = "companies"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    number: str = ""
    first_called_at: float | None = None
    last_called_at: float | None = None


class CallFlow(SQLModel, table=True):
    """A digit path that reached a person at a company: replayed to skip the menu next time."""

    __tablename__ = "call_flows"

    id: int | None = Field(default=None, primary_key=True)
    company: str
    intent: str = ""
    digits: str
    nodes: str = "[]"  # JSON list of IVR node ids along the way
    successes: int = 0
    last_used_at: float | None = None


class NotificationLog(SQLModel, table=True):
    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = ""  # no foreign key: engine-wide notices have no call
    at: float
    event_type: str = ""
    channel: str
    target: str = ""  # recipient within the channel (a phone number), "" when one
    priority: str
    title: str = ""
    status: str  # "sent" | "failed"
    attempts: int = 1
    error: str = ""
