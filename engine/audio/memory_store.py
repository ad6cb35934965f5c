"""Each company's announcement memory on disk, so the second call to a company recognises
its menu and hold announcements from their first half second instead of learning them again.

Why a file per company under the data directory: the memory is small (a few KB per
recording), belongs to one company, and must survive restarts; a JSON file is easy to inspect
and to delete when a company changes its recordings. Saving merges with what is on disk,
because two calls to the same company may end in either order. A damaged or unreadable file
never stops a call: the call starts with an empty memory and says so in the log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from engine.audio import transcript_cues
from engine.audio.announcement_memory import AnnouncementMemory, recording_from_dict

log = logging.getLogger(__name__)

VERSION = 1
MAX_RECORDINGS = 200  # the most often heard are kept; a hold loop has a handful


def memory_dir(root: Path | None = None) -> Path:
    if root is not None:
        return root
    from engine.config import data_dir

    return data_dir() / "memory"


def company_slug(company: str) -> str:
    """File name for a company: "Acme Bank" and "acme_bank" share one memory."""
    return re.sub(r"[^a-z0-9]+", "_", company.strip().lower()).strip("_")


def path_for(company: str, root: Path | None = None) -> Path:
    return memory_dir(root) / f"{company_slug(company)}.json"


def load(company: str, root: Path | None = None) -> AnnouncementMemory:
    """The company's memory from earlier calls; empty for an unknown or unnamed company."""
    if not company_slug(company):
        return AnnouncementMemory()
    return AnnouncementMemory(known=_read(path_for(company, root)))


def save(company: str, memory: AnnouncementMemory, root: Path | None = None) -> Path | None:
    """Merge this call's memory into the company's file (atomically); returns its path, or
    None when there is no company to keep it for or nothing to keep."""
    if not company_slug(company):
        return None
    path = path_for(company, root)
    merged = AnnouncementMemory(known=_read(path))
    names = transcript_cues.known_line_names([company], merged.texts() + memory.texts())
    for entry in memory.export():
        if _sounds_like_a_person(entry.get("text", ""), names):
            continue  # a person the detector missed is no announcement: never veto them later
        rec = recording_from_dict(entry)
        if len(rec.fp) >= 15:
            merged.remember(rec.fp, rec.text, source="company", voice=rec.voice,
                            frames=rec.frames)
    entries = sorted(merged.export(), key=lambda e: -int(e.get("seen", 1)))[:MAX_RECORDINGS]
    if not entries:
        return None
    doc = {"version": VERSION, "company": company, "updated": time.time(),
           "recordings": entries}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, path)
    return path


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text())
        entries = doc["recordings"] if isinstance(doc, dict) else doc
        return [e for e in entries if isinstance(e, dict) and e.get("fp")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("announcement memory %s is unreadable (%s); starting afresh", path, exc)
        return []


def _sounds_like_a_person(text: str, names: set[str]) -> bool:
    cues = transcript_cues.score(text, names)
    return cues.human >= 2.0 and cues.recorded < 1.5
