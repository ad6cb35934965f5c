"""What a company's phone system has already played, so a repeat never raises an alarm.

Hold loops repeat: the same announcement every 30–60 s, the same menu on every call. The
memory holds each recording's acoustic fingerprint (recognised half a second into a replay)
and its transcript (recognised once the words are in). One memory serves a call; pass the
company's memory from earlier calls in and ``export()`` it afterwards to keep it.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import threading
from typing import Any

import numpy as np

from engine.audio.fingerprint import bit_error_rate
from engine.audio.transcript_cues import normalise

# the first 5 s identify a recording; the rest (up to 30 s) tells where a replay of it was
# cut off, by an agent who picked up or another voice
MAX_FP_FRAMES = 1500
MATCH_BER = 0.30  # same recording ≈ 0.1–0.28 through a phone line, other speech ≈ 0.43
MATCH_TEXT = 0.8


@dataclasses.dataclass(slots=True)
class Recording:
    fp: np.ndarray  # uint16 per 20 ms frame from speech onset
    text: str = ""
    seen: int = 1
    source: str = "call"  # "call" (heard on this call) or "company" (earlier calls)
    voice: np.ndarray | None = None  # its speaker's voice print (see voice_print.py)
    frames: int | None = None  # its whole length, lead-in too (None: an older version's)


@dataclasses.dataclass(slots=True)
class Match:
    ber: float
    index: int
    source: str
    text: str
    offset: int = 0  # the query's first frame is the recording's frame ``offset``
    fp: np.ndarray | None = None  # the recording's fingerprint, to follow a replay along
    frames: int | None = None  # the recording's length in frames of ``fp``, when known

    def to_dict(self) -> dict[str, Any]:
        return {"ber": round(self.ber, 3), "index": self.index, "source": self.source,
                "text": self.text}  # fmt: skip


class AnnouncementMemory:
    """Thread-safe store of recordings heard; matching is a few ms for dozens of entries."""

    def __init__(self, known: list[dict[str, Any]] | None = None) -> None:
        self._items: list[Recording] = []
        self._lock = threading.Lock()
        for entry in known or []:
            self._items.append(recording_from_dict(entry))

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def match_audio(self, fp: np.ndarray, max_offset: int = 150) -> Match | None:
        """Best acoustic match of a segment's opening frames, or None. The offset search lets
        a replay match even when our onset landed a word later than the first time."""
        if len(fp) < 15:
            return None
        with self._lock:
            items = list(enumerate(self._items))
        best: Match | None = None
        q = fp.astype(np.uint16)
        for i, rec in items:
            ber, offset = bit_error_rate(q, rec.fp, max_offset)
            if best is None or ber < best.ber:
                best = Match(ber, i, rec.source, rec.text, offset, rec.fp, rec.frames)
        return best

    def match_text(self, text: str) -> Match | None:
        """A transcript already heard (Whisper may word it slightly differently)."""
        norm = normalise(text)
        if len(norm.split()) < 3:
            return None
        with self._lock:
            items = list(enumerate(self._items))
        best: Match | None = None
        for i, rec in items:
            if not rec.text:
                continue
            other = normalise(rec.text)
            n = min(len(norm), len(other))
            ratio = difflib.SequenceMatcher(None, norm[:n], other[:n]).ratio()
            if ratio >= MATCH_TEXT and (best is None or ratio > 1 - best.ber):
                best = Match(1 - ratio, i, rec.source, rec.text)
        return best

    def texts(self) -> list[str]:
        """The words of every recording known that has them."""
        with self._lock:
            return [r.text for r in self._items if r.text]

    def voices(self) -> list[np.ndarray]:
        """The voice prints of every recording known: the line's own voices."""
        with self._lock:
            return [r.voice for r in self._items if r.voice is not None]

    def remember(
        self,
        fp: np.ndarray,
        text: str = "",
        source: str = "call",
        voice: np.ndarray | None = None,
        onset: int = 0,
        frames: int | None = None,
    ) -> int:
        """Store a recording (or count a repeat of a known one); returns its index. ``fp``
        may start with a lead-in before the voice's ``onset`` (frames): kept, it lets a
        replay whose onset is heard a frame or two earlier still match; queries are taken
        from the onset. ``frames``: the whole recording's length (``fp`` may be capped), so
        a replay that runs on past it is known to be something else."""
        fp = fp[:MAX_FP_FRAMES].astype(np.uint16)
        head = fp[onset : onset + 50]
        m = self.match_audio(head) if len(head) >= 15 else None
        with self._lock:
            if m is not None and m.ber <= MATCH_BER:
                rec = self._items[m.index]
                rec.seen += 1
                if rec.frames is None and frames is not None:  # an older version's entry:
                    rec.frames, rec.text = frames, text  # its words may be of a longer turn
                if text and not rec.text:
                    rec.text = text
                if voice is not None and rec.voice is None:
                    rec.voice = voice
                return m.index
            self._items.append(Recording(fp=fp, text=text, source=source, voice=voice,
                                         frames=frames))  # fmt: skip
            return len(self._items) - 1

    def set_text(self, index: int, text: str) -> None:
        with self._lock:
            if 0 <= index < len(self._items) and not self._items[index].text:
                self._items[index].text = text

    def export(self) -> list[dict[str, Any]]:
        """Plain data for the company's store; load it with ``AnnouncementMemory(known=...)``."""
        with self._lock:
            return [_to_dict(r) for r in self._items]


def _to_dict(r: Recording) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fp": base64.b64encode(r.fp.astype("<u2").tobytes()).decode("ascii"),
        "text": r.text,
        "seen": r.seen,
    }
    if r.frames is not None:
        out["frames"] = r.frames
    if r.voice is not None:
        out["voice"] = base64.b64encode(r.voice.astype("<f2").tobytes()).decode("ascii")
    return out


def recording_from_dict(entry: dict[str, Any]) -> Recording:
    """One entry of :meth:`AnnouncementMemory.export` (or a company file) back."""
    fp = np.frombuffer(base64.b64decode(entry.get("fp", "")), dtype="<u2").astype(np.uint16)
    frames = entry.get("frames")
    return Recording(fp=fp, text=str(entry.get("text", "")), seen=int(entry.get("seen", 1)),
                     source="company", voice=voice_from_text(entry.get("voice")),
                     frames=int(frames) if isinstance(frames, int) else None)  # fmt: skip


def voice_from_text(text: object) -> np.ndarray | None:
    """A stored voice print back as float32 (None when absent or not one)."""
    if not isinstance(text, str) or not text:
        return None
    v = np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)
    return v if v.size == 256 else None
